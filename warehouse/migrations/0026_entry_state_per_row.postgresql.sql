-- PostgreSQL only, after 0026_entry_state_per_row.sql: its views (see there), and an index.
CREATE OR REPLACE VIEW quality.quarantine AS
SELECT
    f.quarantine_id, f.run_id, f.source, f.file_name, f.file_sha256, f.level, f.record_id,
    f.record_version, f.record_sha256, f.codes, f.line, f.raw_path, f.status, f.resolved_run_id,
    CAST(CASE
        WHEN f.closed_run_id IS NOT NULL AND rr.run_id IS NOT NULL THEN 'replayed'
        WHEN f.closed_run_id IS NOT NULL THEN 'resolved'
        WHEN f.superseded AND rs.run_id IS NOT NULL THEN 'replayed'
        WHEN f.superseded THEN 'superseded'
        WHEN m.status IN ('reviewed', 'dismissed') THEN m.status
        ELSE 'open'
    END AS text) AS state,
    -- the run whose load decided the state (null for a steward's mark or an open entry)
    CAST(COALESCE(f.closed_run_id,
                  CASE WHEN f.superseded THEN f.superseded_run_id END) AS text) AS state_run_id,
    CAST(m.status AS text) AS review_status,
    CAST(m.reviewed_by AS text) AS reviewed_by,
    m.reviewed_at,
    CAST(m.note AS text) AS review_note
FROM (
    SELECT q.quarantine_id, q.run_id, q.source, q.file_name, q.file_sha256, q.level,
           q.record_id, q.record_version, q.record_sha256, q.codes, q.line, q.raw_path,
           q.status, q.resolved_run_id,
           -- resolved: by the load that staged a later version (stored), or, for a file
           -- entry, by the first load after it of a file of its name or of a replay made for it
           COALESCE(
               CASE WHEN q.status = 'resolved' THEN q.resolved_run_id END,
               CASE WHEN q.level = 'file' THEN (
                   SELECT min(a.run_id) FROM meta.load_audit a WHERE a.load_seq = (
                       SELECT min(l.load_seq) FROM (
                           SELECT h.load_seq FROM meta.file_ledger_history h
                           WHERE h.source = q.source AND h.remote_name = q.file_name
                             AND h.load_seq > COALESCE(q.load_seq, -1) AND h.status = 'loaded'
                           UNION ALL
                           SELECT h.load_seq FROM meta.replay r
                           JOIN meta.file_ledger_history h ON h.run_id = r.run_id
                           WHERE r.entry_id = q.quarantine_id AND h.source = q.source
                             AND h.load_seq > COALESCE(q.load_seq, -1)
                             AND h.status = 'loaded') l))
               END) AS closed_run_id,
           -- superseded: the entry's own version staged from another file
           CASE
               WHEN q.superseded_load_seq IS NOT NULL THEN TRUE
               WHEN q.level = 'record' AND NOT q.superseded_checked THEN EXISTS (
                   SELECT 1 FROM staging.stg_tracs__field_report s
                   WHERE q.kind = 'tracs' AND s.record_id = q.record_id
                     AND s.form_version = meta.try_int(q.record_version)
                     AND s.file_sha256 IS DISTINCT FROM q.file_sha256
                   UNION ALL
                   SELECT 1 FROM staging.stg_meg__case s
                   WHERE q.kind = 'meg' AND s.record_id = q.record_id
                     AND s.last_modified = meta.try_timestamp(q.record_version)
                     AND s.file_sha256 IS DISTINCT FROM q.file_sha256)
               ELSE FALSE
           END AS superseded,
           -- and the run of its first such load
           CASE
               WHEN q.superseded_run_id IS NOT NULL THEN q.superseded_run_id
               WHEN q.superseded_load_seq IS NOT NULL THEN (
                   SELECT min(a.run_id) FROM meta.load_audit a
                   WHERE a.load_seq = q.superseded_load_seq)
               WHEN q.level = 'record' AND NOT q.superseded_checked THEN (
                   SELECT min(a.run_id) FROM meta.load_audit a WHERE a.load_seq = (
                       SELECT min(c.load_seq) FROM (
                           SELECT s.load_seq FROM staging.stg_tracs__field_report s
                           WHERE q.kind = 'tracs' AND s.record_id = q.record_id
                             AND s.form_version = meta.try_int(q.record_version)
                             AND s.file_sha256 IS DISTINCT FROM q.file_sha256
                           UNION ALL
                           SELECT s.load_seq FROM staging.stg_meg__case s
                           WHERE q.kind = 'meg' AND s.record_id = q.record_id
                             AND s.last_modified = meta.try_timestamp(q.record_version)
                             AND s.file_sha256 IS DISTINCT FROM q.file_sha256) c))
           END AS superseded_run_id
    FROM meta.quarantine q
) f
LEFT JOIN (
    SELECT quarantine_id,
           CASE WHEN status = 'resolved' THEN 'dismissed' ELSE status END AS status,
           note, reviewed_by, reviewed_at,
           ROW_NUMBER() OVER (PARTITION BY quarantine_id
                              ORDER BY reviewed_at DESC, status, reviewed_by) AS nth
    FROM quality.quarantine_review
) m ON m.quarantine_id = f.quarantine_id AND m.nth = 1
LEFT JOIN meta.replay rr ON rr.run_id = f.closed_run_id
LEFT JOIN meta.replay rs ON f.superseded AND rs.run_id = f.superseded_run_id;

CREATE OR REPLACE VIEW quality.quarantine_state AS
SELECT quarantine_id, state, state_run_id, review_status, reviewed_by, reviewed_at, review_note
FROM quality.quarantine;

-- The entries a load resolved, counted per batch after the load (warehouse/load.py), looked up by index rather than by a scan of
-- every entry; and the statistics of meta.quarantine after the runs of superseded entries were
-- written, for the plans of the first readings.
CREATE INDEX quarantine_resolved_load_seq ON meta.quarantine (resolved_load_seq);
ANALYZE meta.quarantine;
