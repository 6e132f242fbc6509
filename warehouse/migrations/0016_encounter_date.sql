-- The encounter date of publication.md §1 (TraCS summaryDateOccurred of the member form; the
-- referral date for a MEG-only deflection or when it is blank): time to treatment engagement
-- is counted from it. Internal to the mart; the statutory measures are published through the
-- vintage views of migration 0017.
ALTER TABLE marts.fct_deflection ADD COLUMN encounter_date date;
