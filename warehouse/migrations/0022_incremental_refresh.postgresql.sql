-- What the incremental refresh looks up each night, so that its cost follows the night and not
-- the years staged: the records loaded since the last refresh, the records sharing a report
-- number, the deflections of records in scope and those whose events fall within the horizon.
CREATE INDEX stg_tracs__field_report_load_seq ON staging.stg_tracs__field_report (load_seq);
CREATE INDEX stg_tracs__field_report_report ON staging.stg_tracs__field_report (report_number);
CREATE INDEX stg_meg__case_load_seq ON staging.stg_meg__case (load_seq);
CREATE INDEX stg_meg__case_report ON staging.stg_meg__case (tracs_report_number);
CREATE INDEX fct_deflection_tracs_record ON marts.fct_deflection (tracs_record_id);
CREATE INDEX fct_deflection_meg_record ON marts.fct_deflection (meg_record_id);
CREATE INDEX fct_deflection_referral ON marts.fct_deflection (referral_date);
CREATE INDEX fct_evaluation_deflection ON marts.fct_evaluation (deflection_id);
CREATE INDEX fct_evaluation_date ON marts.fct_evaluation (evaluation_date);
