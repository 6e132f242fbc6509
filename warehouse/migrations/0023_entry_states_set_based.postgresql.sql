-- PostgreSQL only, after 0023_entry_states_set_based.sql: the indexes its joins look up by
-- (DuckDB scans and hashes; it needs none). The view keeps its grants (replaced in place).

-- A file entry's re-delivery: the loads of a file of its name, after the entry's own load.
-- It replaces 0012's index on (source, remote_name), of which it is an extension.
CREATE INDEX file_ledger_history_file_seq
    ON meta.file_ledger_history (source, remote_name, load_seq);
DROP INDEX meta.file_ledger_history_file;
-- A file entry's replay: the files a replay run loaded.
CREATE INDEX file_ledger_history_run ON meta.file_ledger_history (run_id);
-- The run of a load_seq (also what refresh's max(load_seq) reads).
CREATE INDEX load_audit_load_seq ON meta.load_audit (load_seq);
-- The replay runs made for an entry.
CREATE INDEX replay_entry ON meta.replay (entry_id);
