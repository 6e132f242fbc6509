-- quality.file_ledger shows what a ledger decision rested on (migration 0012): the completion
-- marker as listed and the basis of a quarantine. Columns appended, so grants stay.
CREATE OR REPLACE VIEW quality.file_ledger AS
SELECT
    source, remote_name, size, mtime, sha256, status, run_id, landing_path, duplicate_of,
    records_loaded, records_quarantined, handled_at, marker_mtime, marker_size, basis
FROM meta.file_ledger;
