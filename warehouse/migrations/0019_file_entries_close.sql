-- A file-level entry (F01-F09: the whole file refused) is closed by a load too, as a record
-- entry is by a later version (docs/stewards.md, "State of an entry"): the source's first later
-- load of a file of the same name (a corrected re-delivery) resolves it, and a replay run that
-- names the entry and loads its file replays it. Before this, such an entry stayed open after
-- its corrected file loaded until a steward marked it. Same columns as 0014, so the view is
-- replaced in place and keeps its grants.
--
CREATE OR REPLACE VIEW quality.quarantine_state AS
WITH marks AS (
    SELECT quarantine_id,
           CASE WHEN status = 'resolved' THEN 'dismissed' ELSE status END AS status,
           note, reviewed_by, reviewed_at,
           ROW_NUMBER() OVER (PARTITION BY quarantine_id
                              ORDER BY reviewed_at DESC, status, reviewed_by) AS nth
    FROM quality.quarantine_review
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
    SELECT q.quarantine_id, min(h.load_seq) AS load_seq
    FROM meta.quarantine q JOIN meta.file_ledger_history h
      ON h.source = q.source AND h.status = 'loaded'
     AND h.load_seq > COALESCE(q.load_seq, -1)
     AND (h.remote_name = q.file_name
          OR h.run_id IN (SELECT r.run_id FROM meta.replay r
                          WHERE r.entry_id = q.quarantine_id))
    WHERE q.level = 'file'
    GROUP BY q.quarantine_id
),
facts AS (
    SELECT q.quarantine_id,
           COALESCE(CASE WHEN q.status = 'resolved' THEN q.resolved_run_id END,
                    (SELECT min(a.run_id) FROM meta.load_audit a WHERE a.load_seq = fl.load_seq))
               AS resolved_run_id,
           (SELECT min(a.run_id) FROM meta.load_audit a WHERE a.load_seq = c.load_seq)
               AS superseded_run_id,
           c.quarantine_id IS NOT NULL AS superseded
    FROM meta.quarantine q LEFT JOIN copies c ON c.quarantine_id = q.quarantine_id
    LEFT JOIN file_loads fl ON fl.quarantine_id = q.quarantine_id
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

-- The same columns as before (names may only grow), then the entry's state.
DROP VIEW quality.quarantine;
CREATE VIEW quality.quarantine AS
SELECT
    q.quarantine_id, q.run_id, q.source, q.file_name, q.file_sha256, q.level, q.record_id,
    q.record_version, q.record_sha256, q.codes, q.line, q.raw_path, q.status, q.resolved_run_id,
    s.state, s.state_run_id, s.review_status, s.reviewed_by, s.reviewed_at, s.review_note
FROM meta.quarantine q JOIN quality.quarantine_state s ON s.quarantine_id = q.quarantine_id;
