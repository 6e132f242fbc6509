-- Stewards' review trail of quarantine entries (stewardship's mark command). Append-only: the
-- latest row of an entry is its review state. Independent of the load status of
-- quality.quarantine, which only a later valid version of the record changes.
CREATE TABLE quality.quarantine_review (
    quarantine_id text NOT NULL, status text NOT NULL, note text, reviewed_by text NOT NULL,
    reviewed_at timestamp with time zone NOT NULL
);
