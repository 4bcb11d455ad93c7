-- Uploads' `updated_at` (see the MySQL step of the same number), filled for existing rows with
-- the latest time they recorded (SQLite's MAX of several values is the greatest; the times are
-- text of one width, which sorts like the time). SQLite cannot make an added column NOT NULL
-- without rebuilding the table: the application always writes it. A column that exists
-- already fails with "duplicate column name", which the runner takes as "done"; the fill is
-- harmless to repeat.
ALTER TABLE uploads ADD COLUMN updated_at DATETIME;
UPDATE uploads SET updated_at = MAX(created_at, COALESCE(stored_at, created_at), COALESCE(trashed_at, created_at), COALESCE(restored_at, created_at)) WHERE updated_at IS NULL;
