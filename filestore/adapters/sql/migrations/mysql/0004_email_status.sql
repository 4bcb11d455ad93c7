-- Bounces and complaints: whether mail still reaches a user's address ('ok', 'bounced',
-- 'complained'), and a way to find users by address whatever its case, as the mail service
-- reports an address.
--
-- Existing users get 'ok' (the default). Each statement either takes effect or fails with
-- "duplicate column name" / "duplicate key name", which the runner takes as "done".
ALTER TABLE users
  ADD COLUMN email_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'ok';
-- The address lower-cased, kept by the database itself (no writer can forget it). STORED, not
-- VIRTUAL: a prefix index on a TEXT column needs its values stored. Adding it rebuilds the
-- table once (the users table is small next to uploads).
ALTER TABLE users
  ADD COLUMN email_lower TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
    GENERATED ALWAYS AS (LOWER(email)) STORED;
-- The seed's index on email(255) serves exact matches; this one serves bounce look-ups.
ALTER TABLE users ADD KEY users_email_lower (email_lower(255));
