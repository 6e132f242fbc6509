-- quality.quarantine_state computed set by set, so that reading it costs in proportion to the
-- entries and the loads that close them, not to entries × years of ledger history
-- (docs/performance.md, "Quarantine states"). Same columns, names and meaning as 0019, so the
-- view is replaced in place and keeps its grants; quality.quarantine, which joins it, is
-- unchanged. What 0019 did per row, this does once:
--   * a file entry's closing load is found by two joins, one per way a load closes it (a file
--     of the same name; a file loaded by a replay run made for the entry), instead of one join
--     on the source with an OR that compared every entry with every load of its source;
--   * the run of a load_seq comes from one grouped pass over meta.load_audit, joined, instead
--     of a scan of the audit per entry (and per mention of the expression).
-- On PostgreSQL 0023_entry_states_set_based.postgresql.sql adds the indexes these joins use.
CREATE OR REPLACE VIEW quality.quarantine_state AS
WITH marks AS (
    SELECT quarantine_id,
           CASE WHEN status = 'resolved' THEN 'dismissed' ELSE status END AS status,
           note, reviewed_by, reviewed_at,
           ROW_NUMBER() OVER (PARTITION BY quarantine_id
                              ORDER BY reviewed_at DESC, status, reviewed_by) AS nth
    FROM quality.quarantine_review
),
-- The run of each load (a load_seq is one batch; min() as 0019 took it).
load_runs AS (
    SELECT load_seq, min(run_id) AS run_id FROM meta.load_audit GROUP BY load_seq
),
-- The first load of the entry's own version from another file. Staging keeps every version a
-- kind loaded, in its parent table; a kind added after this migration has no copies here.
copies AS (
    SELECT c.quarantine_id, min(c.load_seq) AS load_seq FROM (
        SELECT q.quarantine_id, s.load_seq
        FROM meta.quarantine q JOIN staging.stg_tracs__field_report s
          ON q.kind = 'tracs' AND s.record_id = q.record_id
         AND s.form_version = meta.try_int(q.record_version)
         AND s.file_sha256 IS DISTINCT FROM q.file_sha256
        WHERE q.level = 'record'
        UNION ALL
        SELECT q.quarantine_id, s.load_seq
        FROM meta.quarantine q JOIN staging.stg_meg__case s
          ON q.kind = 'meg' AND s.record_id = q.record_id
         AND s.last_modified = meta.try_timestamp(q.record_version)
         AND s.file_sha256 IS DISTINCT FROM q.file_sha256
        WHERE q.level = 'record') c
    GROUP BY c.quarantine_id
),
-- The first load after the entry of a file that replaces a refused one: same source and name,
-- or any file of the source loaded by a replay run made for this entry.
file_loads AS (
    SELECT l.quarantine_id, min(l.load_seq) AS load_seq FROM (
        SELECT q.quarantine_id, h.load_seq
        FROM meta.quarantine q JOIN meta.file_ledger_history h
          ON h.source = q.source AND h.remote_name = q.file_name
         AND h.load_seq > COALESCE(q.load_seq, -1) AND h.status = 'loaded'
        WHERE q.level = 'file'
        UNION ALL
        SELECT q.quarantine_id, h.load_seq
        FROM meta.quarantine q JOIN meta.replay r ON r.entry_id = q.quarantine_id
        JOIN meta.file_ledger_history h
          ON h.run_id = r.run_id AND h.source = q.source
         AND h.load_seq > COALESCE(q.load_seq, -1) AND h.status = 'loaded'
        WHERE q.level = 'file') l
    GROUP BY l.quarantine_id
),
facts AS (
    SELECT q.quarantine_id,
           COALESCE(CASE WHEN q.status = 'resolved' THEN q.resolved_run_id END, fr.run_id)
               AS resolved_run_id,
           cr.run_id AS superseded_run_id,
           c.quarantine_id IS NOT NULL AS superseded
    FROM meta.quarantine q
    LEFT JOIN copies c ON c.quarantine_id = q.quarantine_id
    LEFT JOIN load_runs cr ON cr.load_seq = c.load_seq
    LEFT JOIN file_loads fl ON fl.quarantine_id = q.quarantine_id
    LEFT JOIN load_runs fr ON fr.load_seq = fl.load_seq
)
SELECT
    CAST(f.quarantine_id AS text) AS quarantine_id,
    CAST(CASE
        WHEN f.resolved_run_id IS NOT NULL AND rr.run_id IS NOT NULL THEN 'replayed'
        WHEN f.resolved_run_id IS NOT NULL THEN 'resolved'
        WHEN f.superseded AND rs.run_id IS NOT NULL THEN 'replayed'
        WHEN f.superseded THEN 'superseded'
        WHEN m.status IN ('reviewed', 'dismissed') THEN m.status
        ELSE 'open'
    END AS text) AS state,
    -- the run whose load decided the state (null for a steward's mark or an open entry)
    CAST(COALESCE(f.resolved_run_id,
                  CASE WHEN f.superseded THEN f.superseded_run_id END) AS text) AS state_run_id,
    CAST(m.status AS text) AS review_status,
    CAST(m.reviewed_by AS text) AS reviewed_by,
    m.reviewed_at,
    CAST(m.note AS text) AS review_note
FROM facts f
LEFT JOIN marks m ON m.quarantine_id = f.quarantine_id AND m.nth = 1
LEFT JOIN meta.replay rr ON rr.run_id = f.resolved_run_id
LEFT JOIN meta.replay rs ON f.superseded AND rs.run_id = f.superseded_run_id;
