-- filestore v1 (see the MySQL step of the same number). SQLite adds one column per statement;
-- a column that exists already fails with "duplicate column name", which the runner takes as
-- "done". Times are stored as fixed-width text `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), which sorts
-- like the time; text compares byte by byte (BINARY), as MySQL's binary collations do.
ALTER TABLE users ADD COLUMN public_id CHAR(36);
ALTER TABLE users ADD COLUMN notify_email BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN quota_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN used_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
UPDATE users SET public_id = lower(hex(randomblob(16))) WHERE public_id IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS users_public_id ON users (public_id);

ALTER TABLE uploads ADD COLUMN public_id CHAR(36);
ALTER TABLE uploads ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN content_type VARCHAR(255) NOT NULL DEFAULT 'application/octet-stream';
ALTER TABLE uploads ADD COLUMN sha256 CHAR(64);
ALTER TABLE uploads ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'stored';
ALTER TABLE uploads ADD COLUMN expires_at DATETIME;
ALTER TABLE uploads ADD COLUMN stored_at DATETIME;
ALTER TABLE uploads ADD COLUMN multipart_id VARCHAR(1024);
ALTER TABLE uploads ADD COLUMN part_size BIGINT;
ALTER TABLE uploads ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
UPDATE uploads SET public_id = lower(hex(randomblob(16))) WHERE public_id IS NULL;
UPDATE uploads SET expires_at = created_at, stored_at = created_at WHERE expires_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uploads_public_id ON uploads (public_id);
CREATE INDEX IF NOT EXISTS uploads_owner_listing ON uploads (user_id, status, created_at, public_id);
CREATE INDEX IF NOT EXISTS uploads_status_created ON uploads (status, created_at);

CREATE TABLE IF NOT EXISTS shares (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  token VARCHAR(64) NOT NULL UNIQUE,
  upload_id INTEGER NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL,
  revoked_at DATETIME,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS shares_upload_expires ON shares (upload_id, expires_at);

CREATE TABLE IF NOT EXISTS connections (
  id VARCHAR(128) NOT NULL PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  connected_at DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_user ON connections (user_id, connected_at);
CREATE INDEX IF NOT EXISTS connections_connected_at ON connections (connected_at);

CREATE TABLE IF NOT EXISTS outbox (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id CHAR(36) NOT NULL UNIQUE,
  event_type VARCHAR(64) NOT NULL,
  user_id CHAR(36) NOT NULL,
  occurred_at DATETIME NOT NULL,
  envelope TEXT NOT NULL,
  published_at DATETIME
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (published_at, position);

CREATE TABLE IF NOT EXISTS processed_events (
  consumer VARCHAR(64) NOT NULL,
  event_id VARCHAR(64) NOT NULL,
  processed_at DATETIME NOT NULL,
  PRIMARY KEY (consumer, event_id)
);
