-- "Is this finding already recorded?" (load_batch) looks a finding up by its file first: every
-- finding comes from a file with a SHA-256. Without this index that test scanned every finding
-- ever recorded for each new one, and a year's backfill slowed to minutes per batch.
CREATE INDEX finding_file ON meta.finding (source, file_sha256);
