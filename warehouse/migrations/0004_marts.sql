-- Dimensions and facts, replaced as a whole (DELETE + INSERT, one transaction) by each refresh.

-- The unit reference with history: one row per row of reference-units.csv.
CREATE TABLE marts.dim_unit (
    unit_code text NOT NULL, unit_name text, unit_type text,
    county_fips text,            -- ';'-separated 5-digit FIPS, null when the reference lists none
    valid_from date NOT NULL, valid_to date, note text,
    PRIMARY KEY (unit_code, valid_from)
);

-- One row per county of a unit period (the same history, one county a row).
CREATE TABLE marts.dim_unit_county (
    unit_code text NOT NULL, valid_from date NOT NULL, valid_to date, county_fips text NOT NULL
);

CREATE TABLE marts.dim_pathway (
    pathway text PRIMARY KEY, tracs_code text, meg_code text, directive_section text,
    sort_order integer
);

CREATE TABLE marts.dim_date (
    date_day date PRIMARY KEY, year integer, quarter integer, year_quarter text,
    month integer, iso_day_of_week integer
);

-- One row per counted deflection (deflection-rules.md §2): the reporting columns plus lineage.
CREATE TABLE marts.fct_deflection (
    deflection_id text PRIMARY KEY, person_key text, referral_date date, referral_quarter text,
    pathway text, approving_unit_code text, originating_agency_type text, county_fips text,
    sources text, sex text, race text, ethnicity text, age_at_referral integer,
    first_evaluation_date date, evaluated_within_90_days boolean, outcome text,
    prosecutor_submission_date date, flags text,
    tracs_record_id text, tracs_seq integer, meg_record_id text, meg_subject_id text,
    first_due_date date, overdue boolean, approval_date date
);

-- The current evaluations of each counted deflection (MEG only, deflection-rules.md §4).
CREATE TABLE marts.fct_evaluation (
    deflection_id text NOT NULL, evaluation_date date, result text,
    before_referral boolean   -- W07: ignored for follow-up
);

CREATE TABLE marts.deflection_counts (
    approving_unit_code text NOT NULL, referral_quarter text NOT NULL, pathway text,
    deflections bigint NOT NULL
);

CREATE TABLE marts.followup_compliance (
    approving_unit_code text NOT NULL, referral_quarter text NOT NULL, referrals bigint,
    due bigint, evaluated_within_90_days bigint, overdue bigint,
    pct_evaluated_within_90_days numeric(4, 1)
);

CREATE TABLE marts.published_deflection_counts (
    approving_unit_code text NOT NULL, referral_quarter text NOT NULL, deflections bigint,
    suppressed boolean NOT NULL
);
