-- What a ledger decision depended on, so that it is taken again when that changes
-- (docs/operations.md, "failure modes"): the completion marker seen (TraCS .sha256 sidecar,
-- MEG .done: its mtime and size; a new marker is a new delivery) and the basis of the decision
-- (source kind, unit, size limit, schema files), and the ledger's history: every row any
-- batch wrote, never updated, so a replay never rewrites what an earlier run decided.
ALTER TABLE meta.file_ledger ADD COLUMN marker_mtime bigint;
ALTER TABLE meta.file_ledger ADD COLUMN marker_size bigint;
ALTER TABLE meta.file_ledger ADD COLUMN basis text;

CREATE TABLE meta.file_ledger_history (
    source text NOT NULL, remote_name text NOT NULL, size bigint, mtime bigint, sha256 text,
    status text NOT NULL, run_id text, landing_path text, duplicate_of text,
    records_loaded integer, records_quarantined integer, handled_at text,
    marker_mtime bigint, marker_size bigint, basis text,
    batch_id text NOT NULL, load_seq integer NOT NULL
);

-- A fingerprint of the person-key secret (an HMAC of a fixed text under it; never the secret):
-- a run with another secret is refused, since person keys of two secrets never match.
CREATE TABLE meta.person_key_fingerprint (
    id integer PRIMARY KEY, fingerprint text NOT NULL,
    set_at timestamp with time zone NOT NULL
);
