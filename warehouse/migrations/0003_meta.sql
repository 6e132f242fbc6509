-- Bookkeeping: file ledger, quarantine, findings, load audit, pipeline runs, refresh state.

-- Every remote data file seen, one row per (source, remote_name, sha256); sha256 is null while a
-- file is pending (listed, never downloaded). Upserted by load_batch.
CREATE TABLE meta.file_ledger (
    source text NOT NULL, remote_name text NOT NULL, size bigint, mtime bigint, sha256 text,
    status text NOT NULL, run_id text, landing_path text, duplicate_of text,
    records_loaded integer, records_quarantined integer, handled_at text,
    batch_id text
);

-- One row per quarantined file or record; status 'open' until a later version of the same record
-- loads ('resolved'). Never deleted.
CREATE TABLE meta.quarantine (
    quarantine_id text PRIMARY KEY, run_id text, source text NOT NULL, kind text,
    file_name text, file_sha256 text, level text NOT NULL, record_id text, record_version text,
    record_sha256 text, codes text, line integer, raw_path text,
    batch_id text, load_seq integer,
    status text NOT NULL, resolved_run_id text, resolved_load_seq integer
);

-- Findings of deflection-rules.md §5 at every level. History: rows are never deleted.
CREATE TABLE meta.finding (
    run_id text, source text, file_name text, file_sha256 text, record_id text,
    record_sha256 text, deflection_id text, code text NOT NULL, level text NOT NULL,
    line integer, "column" integer, path text, message text,
    batch_id text
);

-- One row per loaded batch directory; batch_id makes a second load of the same batch a no-op.
CREATE TABLE meta.load_audit (
    batch_id text PRIMARY KEY, load_seq integer NOT NULL, run_id text, source text, kind text,
    started_at text, finished_at text, status text, error text,
    files_seen integer, files_loaded integer, files_pending integer, files_quarantined integer,
    files_duplicate integer, records_extracted bigint, records_quarantined bigint,
    records_loaded bigint, rows_staged bigint, findings_added bigint, quarantine_added bigint,
    quarantine_resolved bigint
);

-- reporting.load_run: one row per pipeline run and source.
CREATE TABLE meta.load_run (
    run_id text NOT NULL, source text NOT NULL, started_at timestamp with time zone,
    finished_at timestamp with time zone, as_of date,
    files_seen integer, files_loaded integer, files_pending integer, files_quarantined integer,
    files_duplicate integer, records_loaded bigint, records_quarantined bigint,
    status text NOT NULL,
    PRIMARY KEY (run_id, source)
);

-- The as-of date of the last refresh (followup_compliance is computed for it). One row.
CREATE TABLE meta.refresh_state (
    id integer PRIMARY KEY, as_of date NOT NULL
);
