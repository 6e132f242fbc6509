-- Lookup paths of current_rows and load_batch on PostgreSQL (DuckDB scans; no index needed).
CREATE INDEX stg_tracs__individual_version ON staging.stg_tracs__individual (record_id, form_version);
CREATE INDEX stg_tracs__deflection_version ON staging.stg_tracs__deflection (record_id, form_version);
CREATE INDEX stg_tracs__evidence_item_version ON staging.stg_tracs__evidence_item (record_id, form_version);
CREATE INDEX stg_meg__subject_version ON staging.stg_meg__subject (record_id, last_modified);
CREATE INDEX stg_meg__deflection_version ON staging.stg_meg__deflection (record_id, last_modified);
CREATE INDEX stg_meg__evaluation_version ON staging.stg_meg__evaluation (record_id, last_modified);
CREATE INDEX stg_tracs__field_report_batch ON staging.stg_tracs__field_report (batch_id);
CREATE INDEX stg_meg__case_batch ON staging.stg_meg__case (batch_id);
CREATE UNIQUE INDEX file_ledger_key ON meta.file_ledger (source, remote_name, COALESCE(sha256, ''));
CREATE INDEX quarantine_record ON meta.quarantine (source, record_id);
CREATE INDEX finding_deflection ON meta.finding (deflection_id, code);
CREATE INDEX finding_record ON meta.finding (source, record_id, record_sha256);
