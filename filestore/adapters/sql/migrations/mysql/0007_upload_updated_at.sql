-- Uploads' `updated_at`: the time of the last change their owner can see (stored, failed,
-- expired, renamed, moved, trashed, restored, deleted), by which clients order the realtime
-- messages about a file (they arrive in any order, and sometimes twice).
--
-- Existing rows get the latest time they recorded: created, stored, trashed or restored (a
-- failure, an expiry or a rename left no time of its own). The column is then NOT NULL; its
-- default only serves the previous version's functions, which insert uploads without it while
-- a deploy replaces them.
--
-- Each statement either takes effect or fails with "duplicate column name", which the runner
-- takes as "done"; the fill and the MODIFY are harmless to repeat.
ALTER TABLE uploads ADD COLUMN updated_at DATETIME(6) NULL;
UPDATE uploads SET updated_at = GREATEST(created_at, COALESCE(stored_at, created_at), COALESCE(trashed_at, created_at), COALESCE(restored_at, created_at)) WHERE updated_at IS NULL;
ALTER TABLE uploads MODIFY updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6);
