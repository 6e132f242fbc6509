-- The follow-up worklist of the approving units (directive III.E.1-2), for data stewards: one row
-- per counted deflection, with the source records a unit looks it up by, its due date and the
-- follow-up flags. No personal data: no person key, no demographics, no names or birth dates.
-- On PostgreSQL 0013_followup_worklist.postgresql.sql adds its grants (stewards only).

-- The TraCS report number (summaryReportNumber; for a deflection only MEG reports, the one its
-- case names), so a unit can find the TraCS report behind each row.
ALTER TABLE marts.fct_deflection ADD COLUMN tracs_report_number text;

CREATE VIEW quality.followup_worklist AS
SELECT
    CAST(d.approving_unit_code AS text) AS approving_unit_code,
    CAST(d.deflection_id AS text) AS deflection_id,
    CAST(d.tracs_report_number AS text) AS tracs_report_number,
    CAST(d.tracs_record_id AS text) AS tracs_record_id,
    CAST(d.meg_record_id AS text) AS meg_record_id,
    CAST(d.meg_subject_id AS text) AS meg_subject_id,
    CAST(d.sources AS text) AS sources,
    CAST(d.originating_agency_type AS text) AS originating_agency_type,
    CAST(d.pathway AS text) AS pathway,
    CAST(d.referral_date AS date) AS referral_date,
    CAST(d.referral_quarter AS text) AS referral_quarter,
    CAST(d.first_due_date AS date) AS due_date,
    CAST(d.first_due_date <= s.as_of AS boolean) AS due,
    CAST(d.first_evaluation_date AS date) AS first_evaluation_date,
    CAST(d.evaluated_within_90_days AS boolean) AS evaluated_within_90_days,
    CAST(d.overdue AS boolean) AS overdue,
    CAST(d.outcome AS text) AS outcome,
    CAST(d.prosecutor_submission_date AS date) AS prosecutor_submission_date,
    -- flags is 'Wnn' codes joined by commas: a code matches only itself
    CAST(COALESCE(d.flags, '') LIKE '%W15%' AS boolean) AS w15_followup_gap,
    CAST(COALESCE(d.flags, '') LIKE '%W16%' AS boolean) AS w16_not_submitted_to_prosecutor,
    CAST(COALESCE(d.flags, '') LIKE '%W19%' AS boolean) AS w19_case_manager_not_contacted,
    CAST(s.as_of AS date) AS as_of
FROM marts.fct_deflection d
LEFT JOIN meta.refresh_state s ON s.id = 1;
