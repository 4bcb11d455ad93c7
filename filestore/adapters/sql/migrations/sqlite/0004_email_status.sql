-- Bounces and complaints (see the MySQL step of the same number). SQLite can add a generated
-- column only as VIRTUAL; its index stores the values. A column that exists already fails with
-- "duplicate column name", which the runner takes as "done".
ALTER TABLE users ADD COLUMN email_status VARCHAR(16) NOT NULL DEFAULT 'ok';
ALTER TABLE users ADD COLUMN email_lower TEXT GENERATED ALWAYS AS (lower(email)) VIRTUAL;
CREATE INDEX IF NOT EXISTS users_email_lower ON users (email_lower);
