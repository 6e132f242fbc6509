-- Lineage for data stewards (publication.md §5): for each counted deflection, the member record
-- versions its current row was made from, and the file, line, run and load time each came from.
-- On PostgreSQL 0018_lineage.postgresql.sql adds the grants (stewards only: it names source
-- records). No personal data: identities of records and files only.
--
-- A member is the TraCS form and the MEG case the deflection's row names (marts.fct_deflection,
-- at most one of each, §2), for each source that currently reports it (`sources`). Its version is
-- the record's current one: the highest staged version, as warehouse/current.py reads it for
-- the refresh that built the row.
CREATE VIEW quality.lineage AS
SELECT
    CAST(d.deflection_id AS text) AS deflection_id,
    CAST(s.source AS text) AS source,
    CAST(s.record_id AS text) AS record_id,
    CAST(s.form_version AS text) AS version,
    CAST(s.file_name AS text) AS file_name,
    CAST(s.line AS integer) AS line,
    CAST(a.run_id AS text) AS run_id,
    CAST(a.finished_at AS timestamp with time zone) AS loaded_at
FROM marts.fct_deflection d
JOIN staging.stg_tracs__field_report s
  ON s.record_id = d.tracs_record_id
 AND s.form_version = (SELECT max(v.form_version) FROM staging.stg_tracs__field_report v
                       WHERE v.record_id = d.tracs_record_id)
LEFT JOIN meta.load_audit a ON a.batch_id = s.batch_id
WHERE d.sources IN ('TRACS', 'TRACS+MEG')
UNION ALL
SELECT
    CAST(d.deflection_id AS text),
    CAST(s.source AS text),
    CAST(s.record_id AS text),
    -- MEG LastModified as `YYYY-MM-DD HH:MM:SS` (naive Chicago wall-clock, as staged)
    CAST(s.last_modified AS text),
    CAST(s.file_name AS text),
    CAST(s.line AS integer),
    CAST(a.run_id AS text),
    CAST(a.finished_at AS timestamp with time zone)
FROM marts.fct_deflection d
JOIN staging.stg_meg__case s
  ON s.record_id = d.meg_record_id
 AND s.last_modified = (SELECT max(v.last_modified) FROM staging.stg_meg__case v
                        WHERE v.record_id = d.meg_record_id)
LEFT JOIN meta.load_audit a ON a.batch_id = s.batch_id
WHERE d.sources IN ('MEG', 'TRACS+MEG');
