-- The reconciling sweep's index, ordered like its pages (see the MySQL step of the same
-- number); it replaces its prefix (status, created_at).
CREATE INDEX IF NOT EXISTS uploads_pending_sweep ON uploads (status, created_at, public_id);
DROP INDEX IF EXISTS uploads_status_created;
