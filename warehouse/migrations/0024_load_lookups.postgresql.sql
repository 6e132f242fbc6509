-- PostgreSQL only: what a load looks up in meta.quarantine by index, so that its cost follows
-- the night's rows and not the years of entries kept (DuckDB scans and hashes; it needs none).

-- Is an entry's identity already known (warehouse/load.py, _IDENT: the same expression, which
-- the planner matches)? Without it, each candidate entry rechecked every entry of its source.
CREATE INDEX quarantine_identity ON meta.quarantine (source, (
    CASE WHEN level = 'file' THEN 'F:' || COALESCE(file_sha256, 'name:' || COALESCE(file_name, ''))
    ELSE 'R:' || COALESCE(record_id, '') || ':' || COALESCE(record_sha256, '') END));
-- The entries of the records a load staged a version of (_resolve_quarantine, _supersede).
CREATE INDEX quarantine_record_id ON meta.quarantine (record_id);
-- The entries a load added (_resolve_quarantine).
CREATE INDEX quarantine_load_seq ON meta.quarantine (load_seq);
