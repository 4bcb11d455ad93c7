-- End-to-end checksums: what storage verified when an upload was stored ('full_object': the
-- file's SHA-256; 'composite': S3's SHA-256 of the parts' SHA-256s, '-<parts>' at the end),
-- in hex. NULL while pending, and for files stored without one. The part size it needs is
-- the upload's own `part_size`.
--
-- Each statement either takes effect or fails with "duplicate column name", which the runner
-- takes as "done".
ALTER TABLE uploads ADD COLUMN checksum_type VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL;
ALTER TABLE uploads ADD COLUMN checksum_value VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NULL;
