-- filestore v1: public ids, sizes, states and versions on the seed's tables; shares,
-- realtime connections, the outbox and consumer idempotency beside them.
--
-- Every statement is atomic (MySQL 8 and MariaDB 10.6+ have atomic DDL) and either harmless to
-- repeat or failing with an "already exists" error that the runner takes as "done".

-- utf8mb4 holds any Unicode (4-byte emoji included); the binary collation compares exactly, so
-- a `sub` never matches another that differs only in case or accents. Column by column rather
-- than CONVERT TO, which would also convert the ASCII columns added below when repeated.
ALTER TABLE users
  DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  MODIFY sub VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  MODIFY email TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE uploads
  DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  MODIFY object_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  MODIFY name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;

ALTER TABLE users
  ADD COLUMN public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER id,
  ADD COLUMN notify_email BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN quota_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN used_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN version INT UNSIGNED NOT NULL DEFAULT 1;
-- Rows the seed wrote get an opaque id (not time-ordered: they predate the listing order).
UPDATE users SET public_id = UUID() WHERE public_id IS NULL;
UPDATE users SET created_at = CURRENT_TIMESTAMP WHERE created_at IS NULL;
ALTER TABLE users
  MODIFY public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6);
ALTER TABLE users ADD UNIQUE KEY users_public_id (public_id);

ALTER TABLE uploads
  ADD COLUMN public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER id,
  ADD COLUMN size BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN content_type VARCHAR(255) NOT NULL DEFAULT 'application/octet-stream',
  ADD COLUMN sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'stored',
  ADD COLUMN expires_at DATETIME(6) NULL,
  ADD COLUMN stored_at DATETIME(6) NULL,
  ADD COLUMN multipart_id VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN part_size BIGINT UNSIGNED NULL,
  ADD COLUMN version INT UNSIGNED NOT NULL DEFAULT 1;
-- The seed only recorded uploads that had arrived: they are stored.
UPDATE uploads SET public_id = UUID() WHERE public_id IS NULL;
UPDATE uploads SET created_at = CURRENT_TIMESTAMP WHERE created_at IS NULL;
UPDATE uploads SET expires_at = created_at, stored_at = created_at WHERE expires_at IS NULL;
ALTER TABLE uploads
  MODIFY public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  MODIFY expires_at DATETIME(6) NOT NULL;
ALTER TABLE uploads ADD UNIQUE KEY uploads_public_id (public_id);
-- The owner's newest-first listing: equality on (user_id, status), then a range over
-- (created_at, public_id) read backwards. It also serves the foreign key on user_id.
ALTER TABLE uploads ADD KEY uploads_owner_listing (user_id, status, created_at, public_id);
-- The reconciling sweep: pending uploads, oldest first.
ALTER TABLE uploads ADD KEY uploads_status_created (status, created_at);
-- The seed's own index on user_id is a prefix of the listing index: it only costs writes, and
-- tempts the optimizer into a `ref` scan of every upload of the owner.
ALTER TABLE uploads DROP KEY uploads_user_id_foreign;

CREATE TABLE IF NOT EXISTS shares (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  token VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  upload_id INT UNSIGNED NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  revoked_at DATETIME(6) NULL,
  version INT UNSIGNED NOT NULL DEFAULT 1,
  UNIQUE KEY shares_token (token),
  KEY shares_upload_expires (upload_id, expires_at),
  CONSTRAINT shares_upload_id_foreign FOREIGN KEY (upload_id) REFERENCES uploads (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS connections (
  id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  user_id INT UNSIGNED NOT NULL,
  connected_at DATETIME(6) NOT NULL,
  KEY connections_user (user_id, connected_at),
  KEY connections_connected_at (connected_at),
  CONSTRAINT connections_user_id_foreign FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Events committed with the state they describe. `position` orders them and never leaves the
-- database; `envelope` is the event's JSON wire form.
CREATE TABLE IF NOT EXISTS outbox (
  position BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  event_type VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  occurred_at DATETIME(6) NOT NULL,
  envelope MEDIUMTEXT NOT NULL,
  published_at DATETIME(6) NULL,
  UNIQUE KEY outbox_event_id (event_id),
  KEY outbox_unpublished (published_at, position)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS processed_events (
  consumer VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  event_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  processed_at DATETIME(6) NOT NULL,
  PRIMARY KEY (consumer, event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
