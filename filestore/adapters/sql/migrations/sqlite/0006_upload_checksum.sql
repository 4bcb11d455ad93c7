-- End-to-end checksums (see the MySQL step of the same number). A column that exists already
-- fails with "duplicate column name", which the runner takes as "done".
ALTER TABLE uploads ADD COLUMN checksum_type VARCHAR(16);
ALTER TABLE uploads ADD COLUMN checksum_value VARCHAR(80);
