-- The public interface (reporting-contract.md): exactly these names, columns, order and types.

CREATE VIEW reporting.deflection AS
SELECT
    CAST(deflection_id AS text) AS deflection_id,
    CAST(person_key AS text) AS person_key,
    CAST(referral_date AS date) AS referral_date,
    CAST(referral_quarter AS text) AS referral_quarter,
    CAST(pathway AS text) AS pathway,
    CAST(approving_unit_code AS text) AS approving_unit_code,
    CAST(originating_agency_type AS text) AS originating_agency_type,
    CAST(county_fips AS text) AS county_fips,
    CAST(sources AS text) AS sources,
    CAST(sex AS text) AS sex,
    CAST(race AS text) AS race,
    CAST(ethnicity AS text) AS ethnicity,
    CAST(age_at_referral AS integer) AS age_at_referral,
    CAST(first_evaluation_date AS date) AS first_evaluation_date,
    CAST(evaluated_within_90_days AS boolean) AS evaluated_within_90_days,
    CAST(outcome AS text) AS outcome,
    CAST(prosecutor_submission_date AS date) AS prosecutor_submission_date,
    CAST(COALESCE(flags, '') AS text) AS flags
FROM marts.fct_deflection;

CREATE VIEW reporting.deflection_counts AS
SELECT
    CAST(approving_unit_code AS text) AS approving_unit_code,
    CAST(referral_quarter AS text) AS referral_quarter,
    CAST(pathway AS text) AS pathway,
    CAST(deflections AS bigint) AS deflections
FROM marts.deflection_counts;

CREATE VIEW reporting.followup_compliance AS
SELECT
    CAST(approving_unit_code AS text) AS approving_unit_code,
    CAST(referral_quarter AS text) AS referral_quarter,
    CAST(referrals AS bigint) AS referrals,
    CAST(due AS bigint) AS due,
    CAST(evaluated_within_90_days AS bigint) AS evaluated_within_90_days,
    CAST(overdue AS bigint) AS overdue,
    CAST(pct_evaluated_within_90_days AS numeric(4, 1)) AS pct_evaluated_within_90_days
FROM marts.followup_compliance;

CREATE VIEW reporting.published_deflection_counts AS
SELECT
    CAST(approving_unit_code AS text) AS approving_unit_code,
    CAST(referral_quarter AS text) AS referral_quarter,
    CAST(deflections AS bigint) AS deflections,
    CAST(suppressed AS boolean) AS suppressed
FROM marts.published_deflection_counts;

CREATE VIEW reporting.load_run AS
SELECT
    CAST(run_id AS text) AS run_id,
    CAST(source AS text) AS source,
    started_at,
    finished_at,
    CAST(as_of AS date) AS as_of,
    CAST(files_seen AS integer) AS files_seen,
    CAST(files_loaded AS integer) AS files_loaded,
    CAST(files_pending AS integer) AS files_pending,
    CAST(files_quarantined AS integer) AS files_quarantined,
    CAST(files_duplicate AS integer) AS files_duplicate,
    CAST(records_loaded AS bigint) AS records_loaded,
    CAST(records_quarantined AS bigint) AS records_quarantined,
    CAST(status AS text) AS status
FROM meta.load_run;

-- The unit reference with its history (an addition: contract names may only grow).
CREATE VIEW reporting.unit AS
SELECT
    CAST(unit_code AS text) AS unit_code,
    CAST(unit_name AS text) AS unit_name,
    CAST(unit_type AS text) AS unit_type,
    CAST(county_fips AS text) AS county_fips,
    CAST(valid_from AS date) AS valid_from,
    CAST(valid_to AS date) AS valid_to
FROM marts.dim_unit;

CREATE VIEW quality.finding AS
SELECT
    CAST(run_id AS text) AS run_id,
    CAST(source AS text) AS source,
    CAST(file_name AS text) AS file_name,
    CAST(record_id AS text) AS record_id,
    CAST(deflection_id AS text) AS deflection_id,
    CAST(code AS text) AS code,
    CAST(level AS text) AS level,
    CAST(line AS integer) AS line,
    CAST("column" AS integer) AS "column",
    CAST(path AS text) AS path,
    CAST(message AS text) AS message
FROM meta.finding;

CREATE VIEW quality.quarantine AS
SELECT
    quarantine_id, run_id, source, file_name, file_sha256, level, record_id, record_version,
    record_sha256, codes, line, raw_path, status, resolved_run_id
FROM meta.quarantine;

CREATE VIEW quality.file_ledger AS
SELECT
    source, remote_name, size, mtime, sha256, status, run_id, landing_path, duplicate_of,
    records_loaded, records_quarantined, handled_at
FROM meta.file_ledger;
