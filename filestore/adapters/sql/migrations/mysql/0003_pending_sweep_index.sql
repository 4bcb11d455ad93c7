-- The reconciling sweep pages through every pending upload, oldest first by (created_at,
-- public_id). On (status, created_at) alone each page is a range of every pending upload left,
-- sorted in full to return the first few hundred (the tie-breaking public_id is not in that
-- index; InnoDB appends the primary key, not it). With public_id in the index, a page is a
-- range read in order from the cursor and stops at the LIMIT.
--
-- Each statement either takes effect or fails with "duplicate key name" / "can't drop", which
-- the runner takes as "done".
ALTER TABLE uploads ADD KEY uploads_pending_sweep (status, created_at, public_id);
-- A prefix of the new index: it would only cost writes.
ALTER TABLE uploads DROP KEY uploads_status_created;
