-- Folders, the trash, sorted listings and search.
--
-- Names. `name_key` (NFC + case folding) and `search_key` (accents dropped as well) are computed
-- by the application (`filestore.domain.names`), so every database stores the same keys, and
-- compared byte by byte (VARBINARY: UTF-8 bytes sort in code point order, with no pad-space
-- rule). A key can be up to 3,060 bytes (255 characters that each fold to several), too long
-- for an index beside other columns, so:
--   * uniqueness is on `live_name`, the SHA-256 of the key, present only while the row holds
--     its name (an active folder, a stored file): MySQL has no partial indexes, and NULLs never
--     clash in a UNIQUE index;
--   * name order is on `name_order`, the key's first 768 bytes (ties, only among names that
--     agree on those, are broken by public id like every other tie);
--   * `search_key` keeps the first 1,024 bytes of the search key, cut at a character boundary:
--     every name of ordinary characters fits whole.
-- Existing rows get their keys from the step after this one (a Python step of the runner: only
-- the application computes them), which also renames duplicate names in the root.
--
-- Folders are referred to by public id (`parent_id`, `folder_id`; '' is the root, so that the
-- root takes part in the UNIQUE index like any folder): moving a folder then changes its own row
-- and its subtree's `path`, never its files. `path` lists the internal ids of a folder's
-- ancestors, outermost first (`/` for a folder in the root, `/12/40/` two levels down): the
-- subtree of folder 40 is every row whose path contains `/40/` (a range of the paths that
-- begin like its own; the index holds their first 255 characters), and a move is into its own
-- subtree exactly when the new parent's path contains `/40/` or the parent is 40. TEXT: no
-- depth limit in practice.
--
-- `trash_entry` is `trashed_at` for what was trashed directly (its `trashed_with` is its own
-- id), else NULL: the trash listing and the purge read an index of it.
--
-- Each statement is atomic; repeated, it fails with "already exists", "duplicate column name" or
-- "duplicate key name", which the runner takes as "done".
CREATE TABLE IF NOT EXISTS folders (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id INT UNSIGNED NOT NULL,
  parent_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  path TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT ('/'),
  name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name_key VARBINARY(3072) NOT NULL,
  status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'active',
  created_at DATETIME(6) NOT NULL,
  trashed_at DATETIME(6) NULL,
  trashed_with CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  version INT UNSIGNED NOT NULL DEFAULT 1,
  live_name BINARY(32) AS (IF(status = 'active', UNHEX(SHA2(name_key, 256)), NULL)) VIRTUAL,
  name_order VARBINARY(768) AS (LEFT(name_key, 768)) VIRTUAL,
  trash_entry DATETIME(6) AS (IF(status = 'trashed' AND trashed_with = public_id, trashed_at, NULL)) VIRTUAL,
  UNIQUE KEY folders_public_id (public_id),
  UNIQUE KEY folders_live_name (user_id, parent_id, live_name),
  KEY folders_listing (user_id, parent_id, status, name_order, public_id),
  KEY folders_subtree (user_id, path(255)),
  KEY folders_trashed_with (trashed_with),
  KEY folders_trash (user_id, trash_entry, public_id),
  KEY folders_trash_sweep (trash_entry, public_id),
  CONSTRAINT folders_user_id_foreign FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Existing files land in the root ('').
ALTER TABLE uploads
  ADD COLUMN folder_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  ADD COLUMN name_key VARBINARY(3072) NULL,
  ADD COLUMN search_key VARBINARY(1024) NULL,
  ADD COLUMN on_conflict VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'rename',
  ADD COLUMN trashed_at DATETIME(6) NULL,
  ADD COLUMN trashed_with CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN restored_at DATETIME(6) NULL;
ALTER TABLE uploads
  ADD COLUMN pending_since DATETIME(6) AS (IF(status = 'pending', created_at, NULL)) VIRTUAL,
  ADD COLUMN live_name BINARY(32) AS (IF(status = 'stored', UNHEX(SHA2(name_key, 256)), NULL)) VIRTUAL,
  ADD COLUMN name_order VARBINARY(768) AS (LEFT(name_key, 768)) VIRTUAL,
  ADD COLUMN trash_entry DATETIME(6) AS (IF(status = 'trashed' AND trashed_with = public_id, trashed_at, NULL)) VIRTUAL;

-- Names are unique within a folder among stored files (and, checked by the writes, folders).
ALTER TABLE uploads ADD UNIQUE KEY uploads_live_name (user_id, folder_id, live_name);
-- Keyset listings, each read forwards or backwards from the cursor: every stored file of the
-- owner by created_at (the v1 index, uploads_owner_listing), by name or by size; one folder's
-- by each of the three. The folder's indexes leave the status out: a folder holds few files
-- that are not stored (pending, or trashed on their own), which the listing skips as it reads
-- the page's rows, while a folder trashed or restored with thousands of files changes their
-- status, and every index that holds it costs that write (bench/organize.py).
ALTER TABLE uploads ADD KEY uploads_owner_by_name (user_id, status, name_order, public_id);
ALTER TABLE uploads ADD KEY uploads_owner_by_size (user_id, status, size, public_id);
ALTER TABLE uploads ADD KEY uploads_folder_by_created (user_id, folder_id, created_at, public_id);
ALTER TABLE uploads ADD KEY uploads_folder_by_name (user_id, folder_id, name_order, public_id);
ALTER TABLE uploads ADD KEY uploads_folder_by_size (user_id, folder_id, size, public_id);
-- Search reads the owner's files in this index alone (search_key and folder_id are in it, so
-- no row is read until one matches; the status is checked on the few that do). Without the
-- status, a file going to the trash changes no entry here.
ALTER TABLE uploads ADD KEY uploads_search (user_id, search_key, folder_id);
-- The reconciling sweep's pending uploads, oldest first, on a column that is NULL for every
-- other upload: a file going to the trash (stored to trashed) changes no entry here, where
-- the v1 index (status, created_at, public_id) changed one per file.
ALTER TABLE uploads ADD KEY uploads_pending (pending_since, public_id);
ALTER TABLE uploads DROP KEY uploads_pending_sweep;
-- The trash listing and the purge sweep. (What was trashed with an item is found through the
-- folders it was in, or the owner's trashed files: no index of its own to update.)
ALTER TABLE uploads ADD KEY uploads_trash (user_id, trash_entry, public_id);
ALTER TABLE uploads ADD KEY uploads_trash_sweep (trash_entry, public_id);
