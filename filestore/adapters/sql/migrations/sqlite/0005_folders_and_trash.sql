-- Folders, the trash, sorted listings and search (see the MySQL step of the same number). SQLite
-- has no index length limit, so `name_order` is the whole key and `live_name` the key itself
-- (NULL unless the row holds its name: NULLs never clash in a UNIQUE index). Text compares byte
-- by byte (BINARY), in code point order. Generated columns added to an existing table must be
-- VIRTUAL; their indexes store the values. A column that exists already fails with "duplicate
-- column name", which the runner takes as "done"; the rest says IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS folders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  public_id CHAR(36) NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users (id),
  parent_id CHAR(36) NOT NULL DEFAULT '',
  path TEXT NOT NULL DEFAULT '/',
  name VARCHAR(255) NOT NULL,
  name_key TEXT NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'active',
  created_at DATETIME NOT NULL,
  trashed_at DATETIME,
  trashed_with CHAR(36),
  version INTEGER NOT NULL DEFAULT 1,
  live_name TEXT GENERATED ALWAYS AS (CASE WHEN status = 'active' THEN name_key END) VIRTUAL,
  name_order TEXT GENERATED ALWAYS AS (name_key) VIRTUAL,
  trash_entry DATETIME GENERATED ALWAYS AS
    (CASE WHEN status = 'trashed' AND trashed_with = public_id THEN trashed_at END) VIRTUAL
);
CREATE UNIQUE INDEX IF NOT EXISTS folders_live_name ON folders (user_id, parent_id, live_name);
CREATE INDEX IF NOT EXISTS folders_listing ON folders (user_id, parent_id, status, name_order, public_id);
CREATE INDEX IF NOT EXISTS folders_subtree ON folders (user_id, path);
CREATE INDEX IF NOT EXISTS folders_trashed_with ON folders (trashed_with);
CREATE INDEX IF NOT EXISTS folders_trash ON folders (user_id, trash_entry, public_id);
CREATE INDEX IF NOT EXISTS folders_trash_sweep ON folders (trash_entry, public_id);

ALTER TABLE uploads ADD COLUMN folder_id CHAR(36) NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN name_key TEXT;
ALTER TABLE uploads ADD COLUMN search_key TEXT;
ALTER TABLE uploads ADD COLUMN on_conflict VARCHAR(8) NOT NULL DEFAULT 'rename';
ALTER TABLE uploads ADD COLUMN trashed_at DATETIME;
ALTER TABLE uploads ADD COLUMN trashed_with CHAR(36);
ALTER TABLE uploads ADD COLUMN restored_at DATETIME;
ALTER TABLE uploads ADD COLUMN live_name TEXT GENERATED ALWAYS AS
  (CASE WHEN status = 'stored' THEN name_key END) VIRTUAL;
ALTER TABLE uploads ADD COLUMN name_order TEXT GENERATED ALWAYS AS (name_key) VIRTUAL;
ALTER TABLE uploads ADD COLUMN pending_since DATETIME GENERATED ALWAYS AS
  (CASE WHEN status = 'pending' THEN created_at END) VIRTUAL;
ALTER TABLE uploads ADD COLUMN trash_entry DATETIME GENERATED ALWAYS AS
  (CASE WHEN status = 'trashed' AND trashed_with = public_id THEN trashed_at END) VIRTUAL;
CREATE UNIQUE INDEX IF NOT EXISTS uploads_live_name ON uploads (user_id, folder_id, live_name);
CREATE INDEX IF NOT EXISTS uploads_owner_by_name ON uploads (user_id, status, name_order, public_id);
CREATE INDEX IF NOT EXISTS uploads_owner_by_size ON uploads (user_id, status, size, public_id);
CREATE INDEX IF NOT EXISTS uploads_folder_by_created ON uploads (user_id, folder_id, created_at, public_id);
CREATE INDEX IF NOT EXISTS uploads_folder_by_name ON uploads (user_id, folder_id, name_order, public_id);
CREATE INDEX IF NOT EXISTS uploads_folder_by_size ON uploads (user_id, folder_id, size, public_id);
CREATE INDEX IF NOT EXISTS uploads_search ON uploads (user_id, search_key, folder_id);
CREATE INDEX IF NOT EXISTS uploads_pending ON uploads (pending_since, public_id);
DROP INDEX IF EXISTS uploads_pending_sweep;
CREATE INDEX IF NOT EXISTS uploads_trash ON uploads (user_id, trash_entry, public_id);
CREATE INDEX IF NOT EXISTS uploads_trash_sweep ON uploads (trash_entry, public_id);
