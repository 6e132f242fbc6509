-- Vintages (publication.md §3): what was published, frozen. Rows are only ever inserted (on
-- PostgreSQL 0017_publication.postgresql.sql refuses updates and takes UPDATE and DELETE from
-- the pipeline's account); the `reporting` views below show them, the latest vintage of each
-- quarter in the published views and every vintage in reporting.published_history.

CREATE TABLE meta.publication (
    vintage_id text PRIMARY KEY,
    period text NOT NULL,              -- 'YYYY-Qn', or 'YYYY' for an annual package
    as_of date NOT NULL,
    published_at timestamp NOT NULL,   -- UTC
    run_id text,                       -- the pipeline run whose warehouse state was published
    protection_width integer NOT NULL,
    load_seq integer                   -- the last batch loaded when it was published
);

-- Every cell of every table of a vintage, in long form, with its true value: the views show
-- null where it is suppressed. cell_key is the cell's dimension values joined by '/'.
CREATE TABLE meta.published_cell (
    vintage_id text NOT NULL, table_name text NOT NULL, cell_key text NOT NULL,
    measure text NOT NULL, origin text, approving_unit_code text, referral_quarter text,
    dimension text, category text, value numeric(12, 1), suppressed boolean NOT NULL,
    PRIMARY KEY (vintage_id, table_name, cell_key, measure)
);

-- Information loss per table (publication.md §2.3).
CREATE TABLE meta.published_table (
    vintage_id text NOT NULL, table_name text NOT NULL, title text, cells integer,
    suppressed_cells integer, nonzero_cells integer, information_loss double precision,
    PRIMARY KEY (vintage_id, table_name)
);

-- The deflections behind each finest cell (no `ALL` value) of each count: row level.
CREATE TABLE meta.published_cell_member (
    vintage_id text NOT NULL, table_name text NOT NULL, cell_key text NOT NULL,
    measure text NOT NULL, deflection_id text NOT NULL
);

-- What each vintage counted, to tell the causes of a revision apart (row level).
CREATE TABLE meta.published_deflection (
    vintage_id text NOT NULL, deflection_id text NOT NULL, tracs_member text, meg_member text,
    approving_unit_code text, engagement_date date,
    PRIMARY KEY (vintage_id, deflection_id)
);

-- Cells whose value changed from the previous vintage of the same period, with the counts of
-- deflections that entered or left them by cause (null unless published in both vintages:
-- a change to a suppressed cell would give its value away).
CREATE TABLE meta.revision (
    vintage_id text NOT NULL, previous_vintage_id text NOT NULL, table_name text NOT NULL,
    cell_key text NOT NULL, measure text NOT NULL, origin text, approving_unit_code text,
    referral_quarter text, dimension text, category text,
    old_value numeric(12, 1), new_value numeric(12, 1),
    late_report integer, correction integer, void integer, relink integer, attribution integer,
    followup integer
);

-- Each deflection that entered or left a changed cell, and why (row level, stewards).
CREATE TABLE meta.revision_member (
    vintage_id text NOT NULL, previous_vintage_id text NOT NULL, table_name text NOT NULL,
    cell_key text NOT NULL, measure text NOT NULL, deflection_id text NOT NULL,
    change text NOT NULL,  -- entered, left
    cause text NOT NULL    -- late_report, correction, void, relink, attribution, followup
);

CREATE VIEW meta.latest_quarter_vintage AS
SELECT p.vintage_id, p.period
FROM meta.publication p
WHERE p.period LIKE '____-Q_'
  AND NOT EXISTS (
    SELECT 1 FROM meta.publication q
    WHERE q.period = p.period
      AND (q.published_at > p.published_at
           OR (q.published_at = p.published_at AND q.vintage_id > p.vintage_id)));

CREATE VIEW reporting.publication AS
SELECT
    CAST(vintage_id AS text) AS vintage_id,
    CAST(period AS text) AS quarter,
    CAST(as_of AS date) AS as_of,
    published_at,
    CAST(run_id AS text) AS run_id,
    CAST(LEAD(vintage_id) OVER (PARTITION BY period ORDER BY published_at, vintage_id) AS text)
        AS superseded_by,
    CAST(protection_width AS integer) AS protection_width
FROM meta.publication;

CREATE VIEW reporting.published_history AS
SELECT
    CAST(c.vintage_id AS text) AS vintage_id,
    CAST(p.period AS text) AS quarter,
    CAST(c.table_name AS text) AS table_name,
    CAST(c.origin AS text) AS origin,
    CAST(c.approving_unit_code AS text) AS approving_unit_code,
    CAST(c.referral_quarter AS text) AS referral_quarter,
    CAST(c.dimension AS text) AS dimension,
    CAST(c.category AS text) AS category,
    CAST(c.measure AS text) AS measure,
    CAST(CASE WHEN c.suppressed THEN NULL ELSE c.value END AS numeric(12, 1)) AS value,
    CAST(c.suppressed AS boolean) AS suppressed
FROM meta.published_cell c
JOIN meta.publication p ON p.vintage_id = c.vintage_id;

CREATE VIEW reporting.published_table AS
SELECT
    CAST(vintage_id AS text) AS vintage_id,
    CAST(table_name AS text) AS table_name,
    CAST(title AS text) AS title,
    CAST(cells AS integer) AS cells,
    CAST(suppressed_cells AS integer) AS suppressed_cells,
    CAST(nonzero_cells AS integer) AS nonzero_cells,
    CAST(information_loss AS double precision) AS information_loss
FROM meta.published_table;

-- The III.E.3 table keeps its columns (reporting-contract.md) and gains the vintage and origin.
CREATE OR REPLACE VIEW reporting.published_deflection_counts AS
SELECT
    CAST(c.approving_unit_code AS text) AS approving_unit_code,
    CAST(c.referral_quarter AS text) AS referral_quarter,
    CAST(CASE WHEN c.suppressed THEN NULL ELSE c.value END AS bigint) AS deflections,
    CAST(c.suppressed AS boolean) AS suppressed,
    CAST(c.vintage_id AS text) AS vintage_id,
    CAST(c.origin AS text) AS origin
FROM meta.published_cell c
JOIN meta.latest_quarter_vintage l ON l.vintage_id = c.vintage_id
WHERE c.table_name = 'deflection_counts';

CREATE VIEW reporting.published_deflections_by_category AS
SELECT
    CAST(c.vintage_id AS text) AS vintage_id,
    CAST(c.table_name AS text) AS table_name,
    CAST(c.dimension AS text) AS dimension,
    CAST(c.approving_unit_code AS text) AS approving_unit_code,
    CAST(c.referral_quarter AS text) AS referral_quarter,
    CAST(c.category AS text) AS category,
    CAST(CASE WHEN c.suppressed THEN NULL ELSE c.value END AS bigint) AS deflections,
    CAST(c.suppressed AS boolean) AS suppressed
FROM meta.published_cell c
JOIN meta.latest_quarter_vintage l ON l.vintage_id = c.vintage_id
WHERE c.table_name LIKE 'deflections_by_%';

CREATE VIEW reporting.published_statutory_measures AS
SELECT
    CAST(c.vintage_id AS text) AS vintage_id,
    CAST(c.approving_unit_code AS text) AS approving_unit_code,
    CAST(c.referral_quarter AS text) AS referral_quarter,
    CAST(MAX(CASE WHEN c.measure = 'participants' AND NOT c.suppressed THEN c.value END)
         AS bigint) AS participants,
    CAST(MAX(CASE WHEN c.measure = 'encounters' AND NOT c.suppressed THEN c.value END)
         AS bigint) AS encounters,
    CAST(MAX(CASE WHEN c.measure = 'matured_30' AND NOT c.suppressed THEN c.value END)
         AS bigint) AS matured_30,
    CAST(MAX(CASE WHEN c.measure = 'engaged_30' AND NOT c.suppressed THEN c.value END)
         AS bigint) AS engaged_30,
    CAST(MAX(CASE WHEN c.measure = 'engagement_rate_30' AND NOT c.suppressed THEN c.value END)
         AS numeric(4, 1)) AS engagement_rate_30,
    CAST(MAX(CASE WHEN c.measure = 'median_days_to_engagement' AND NOT c.suppressed
                  THEN c.value END) AS numeric(12, 1)) AS median_days_to_engagement,
    CAST(COALESCE(string_agg(CASE WHEN c.suppressed THEN c.measure END, ','
                             ORDER BY c.measure), '') AS text) AS suppressed_measures
FROM meta.published_cell c
JOIN meta.latest_quarter_vintage l ON l.vintage_id = c.vintage_id
WHERE c.table_name = 'statutory_measures'
GROUP BY c.vintage_id, c.approving_unit_code, c.referral_quarter;

CREATE VIEW reporting.revision AS
SELECT
    CAST(r.vintage_id AS text) AS vintage_id,
    CAST(r.previous_vintage_id AS text) AS previous_vintage_id,
    CAST(p.period AS text) AS quarter,
    CAST(r.table_name AS text) AS table_name,
    CAST(r.origin AS text) AS origin,
    CAST(r.approving_unit_code AS text) AS approving_unit_code,
    CAST(r.referral_quarter AS text) AS referral_quarter,
    CAST(r.dimension AS text) AS dimension,
    CAST(r.category AS text) AS category,
    CAST(r.measure AS text) AS measure,
    CAST(r.old_value AS numeric(12, 1)) AS old_value,
    CAST(r.new_value AS numeric(12, 1)) AS new_value,
    CAST(r.late_report AS integer) AS late_report,
    CAST(r.correction AS integer) AS correction,
    CAST(r.void AS integer) AS void,
    CAST(r.relink AS integer) AS relink,
    CAST(r.attribution AS integer) AS attribution,
    CAST(r.followup AS integer) AS followup
FROM meta.revision r
JOIN meta.publication p ON p.vintage_id = r.vintage_id;

-- Row level, for stewards (`deflect explain --cell`): the deflections behind each finest cell.
CREATE VIEW quality.published_cell_member AS
SELECT
    CAST(m.vintage_id AS text) AS vintage_id,
    CAST(m.table_name AS text) AS table_name,
    CAST(m.cell_key AS text) AS cell_key,
    CAST(m.measure AS text) AS measure,
    CAST(c.origin AS text) AS origin,
    CAST(c.approving_unit_code AS text) AS approving_unit_code,
    CAST(c.referral_quarter AS text) AS referral_quarter,
    CAST(c.category AS text) AS category,
    CAST(m.deflection_id AS text) AS deflection_id
FROM meta.published_cell_member m
JOIN meta.published_cell c ON c.vintage_id = m.vintage_id AND c.table_name = m.table_name
    AND c.cell_key = m.cell_key AND c.measure = m.measure;

CREATE VIEW quality.revision_member AS
SELECT
    CAST(vintage_id AS text) AS vintage_id,
    CAST(previous_vintage_id AS text) AS previous_vintage_id,
    CAST(table_name AS text) AS table_name,
    CAST(cell_key AS text) AS cell_key,
    CAST(measure AS text) AS measure,
    CAST(deflection_id AS text) AS deflection_id,
    CAST(change AS text) AS change,
    CAST(cause AS text) AS cause
FROM meta.revision_member;
