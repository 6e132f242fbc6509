-- PostgreSQL only, after 0012_ledger_delivery.sql: grants and what DuckDB does not need.

CREATE INDEX file_ledger_history_file ON meta.file_ledger_history (source, remote_name);
GRANT SELECT ON meta.file_ledger_history TO deflect_steward;
