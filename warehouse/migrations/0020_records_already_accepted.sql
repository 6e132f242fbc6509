-- Records recognised as accepted before (same record id and record SHA-256: a cumulative MEG
-- window re-sends a case every night) are neither validated nor extracted again; the file ledger
-- and the load audit count them, so that for every file records_loaded + records_quarantined +
-- records_already_accepted is the number of its records. Columns appended, so grants stay.
ALTER TABLE meta.file_ledger ADD COLUMN records_already_accepted integer;
ALTER TABLE meta.file_ledger_history ADD COLUMN records_already_accepted integer;
ALTER TABLE meta.load_audit ADD COLUMN records_already_accepted bigint;

CREATE OR REPLACE VIEW quality.file_ledger AS
SELECT
    source, remote_name, size, mtime, sha256, status, run_id, landing_path, duplicate_of,
    records_loaded, records_quarantined, handled_at, marker_mtime, marker_size, basis,
    records_already_accepted
FROM meta.file_ledger;
