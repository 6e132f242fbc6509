-- Staging: one table per canonical table (ingestion/canonical.py), one row per record version,
-- never updated or deleted. Column types: dates DATE, counts INTEGER, MEG LastModified TIMESTAMP
-- (naive Chicago wall-clock, compared as written); TraCS instants keep their offset as text.
-- Each row also carries the batch that loaded it (batch_id, load_seq).

CREATE TABLE staging.stg_tracs__field_report (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, form_version integer NOT NULL, status text, last_modified text,
    record_sha256 text, schema_version text, export_id text, export_created_at text,
    export_date date, report_number text, date_occurred date, time_occurred text, division text,
    originating_agency_type text, unit text, officer_badge text, county_fips text,
    incident_type text,
    batch_id text NOT NULL, load_seq integer NOT NULL,
    PRIMARY KEY (record_id, form_version)
);

CREATE TABLE staging.stg_tracs__individual (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, form_version integer NOT NULL, seq integer, role text,
    person_key text, sex text, race text, ethnicity text, disposition text,
    batch_id text NOT NULL, load_seq integer NOT NULL
);

CREATE TABLE staging.stg_tracs__deflection (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, form_version integer NOT NULL, seq integer, pathway text,
    approving_unit text, approver_role text, approver_id text, approved_at text,
    approval_date date, referral_date date, case_manager_agency text,
    case_manager_contact_date date, charges_held_in_abeyance text, co_responder_type text,
    age_at_referral integer,
    batch_id text NOT NULL, load_seq integer NOT NULL
);

CREATE TABLE staging.stg_tracs__evidence_item (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, form_version integer NOT NULL, seq integer, seized text,
    item_status text,
    batch_id text NOT NULL, load_seq integer NOT NULL
);

CREATE TABLE staging.stg_meg__case (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, unit text, case_number text, last_modified timestamp NOT NULL,
    status text, record_sha256 text, export_date date, opened_date date,
    originating_agency_type text, originating_ori text, tracs_report_number text,
    county_fips text,
    batch_id text NOT NULL, load_seq integer NOT NULL,
    PRIMARY KEY (record_id, last_modified)
);

CREATE TABLE staging.stg_meg__subject (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, last_modified timestamp NOT NULL, subject_id text,
    person_key text, sex text, race text,
    batch_id text NOT NULL, load_seq integer NOT NULL
);

CREATE TABLE staging.stg_meg__deflection (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, last_modified timestamp NOT NULL, subject_id text,
    referral_date date, pathway text, approver_role text, approver_id text, approved_at text,
    approval_date date, approving_unit text, case_manager_agency text,
    case_manager_contact_date date, prosecutor_submission_date date, prosecutor_office text,
    evidence_disposal_date date, evidence_disposal_method text, outcome text,
    age_at_referral integer,
    batch_id text NOT NULL, load_seq integer NOT NULL
);

CREATE TABLE staging.stg_meg__evaluation (
    source text NOT NULL, file_name text, file_sha256 text, line integer,
    record_id text NOT NULL, last_modified timestamp NOT NULL, subject_id text,
    evaluation_date date, result text,
    batch_id text NOT NULL, load_seq integer NOT NULL
);
