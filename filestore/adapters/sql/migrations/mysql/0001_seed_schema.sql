-- The schema of the system filestore grows out of, verbatim: a database created by it is
-- recognised here and extended by the next steps, never recreated.
CREATE TABLE IF NOT EXISTS users (
  id int(10) unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sub VARCHAR (255) NOT NULL UNIQUE,
  email TEXT NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  INDEX users_sub_index (sub),
  INDEX users_email_index (email(255))
);

CREATE TABLE IF NOT EXISTS uploads (
  id int(10) unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  object_key VARCHAR(255) NOT NULL UNIQUE,
  name VARCHAR(255) NOT NULL,
  user_id int(10) unsigned NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT uploads_user_id_foreign FOREIGN KEY (user_id) REFERENCES users (id)
);
