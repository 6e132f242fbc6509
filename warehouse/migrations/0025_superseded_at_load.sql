-- An entry is superseded when its own version is staged from another file (0014). 0023 found
-- that by joining every record entry with every staged version each time the state view was
-- read: the one part of a night's report that grew with every year of staging. Now the load
-- that makes it true records it (warehouse/load.py, _supersede: the entries it adds against
-- every staged version, the versions it stages against every entry), in
-- meta.quarantine.superseded_load_seq, and marks the entries it added superseded_checked. The
-- view looks versions up only for entries no load has checked (rows written by other means),
-- so its rows are those of 0023 (tests/warehouse/test_superseded_at_load.py). Existing entries
-- are checked here, once.
ALTER TABLE meta.quarantine ADD COLUMN superseded_load_seq integer;
ALTER TABLE meta.quarantine ADD COLUMN superseded_checked boolean DEFAULT FALSE;
UPDATE meta.quarantine SET superseded_load_seq = c.load_seq FROM (
WITH copies AS (
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
)
SELECT quarantine_id, load_seq FROM copies) c
WHERE meta.quarantine.quarantine_id = c.quarantine_id;
UPDATE meta.quarantine SET superseded_checked = TRUE;

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
-- The first load of the entry's own version from another file, for the entries no load has
-- checked (the others carry it: superseded_load_seq).
copies AS (
    SELECT c.quarantine_id, min(c.load_seq) AS load_seq FROM (
        SELECT q.quarantine_id, s.load_seq
        FROM meta.quarantine q JOIN staging.stg_tracs__field_report s
          ON q.kind = 'tracs' AND s.record_id = q.record_id
         AND s.form_version = meta.try_int(q.record_version)
         AND s.file_sha256 IS DISTINCT FROM q.file_sha256
        WHERE q.level = 'record' AND NOT q.superseded_checked
        UNION ALL
        SELECT q.quarantine_id, s.load_seq
        FROM meta.quarantine q JOIN staging.stg_meg__case s
          ON q.kind = 'meg' AND s.record_id = q.record_id
         AND s.last_modified = meta.try_timestamp(q.record_version)
         AND s.file_sha256 IS DISTINCT FROM q.file_sha256
        WHERE q.level = 'record' AND NOT q.superseded_checked) c
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
           CASE WHEN q.superseded_load_seq IS NOT NULL THEN TRUE
                ELSE c.quarantine_id IS NOT NULL END AS superseded
    FROM meta.quarantine q
    LEFT JOIN copies c ON c.quarantine_id = q.quarantine_id
    LEFT JOIN load_runs cr ON cr.load_seq = COALESCE(q.superseded_load_seq, c.load_seq)
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
