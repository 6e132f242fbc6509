"""The canonical tables MEG / task force rows are written to and staged in (one row per Case
version, and its subjects, deflections and evaluations). The warehouse creates and loads them
from this declaration; tests/warehouse checks it against the migrated tables."""
from __future__ import annotations

from deflect.core.canonical import LINEAGE, SourceTables, StagingTable

# LastModified: naive America/Chicago wall-clock, compared as written
_VERSION = {"line": "integer", "last_modified": "timestamp"}

CASE = StagingTable("stg_meg__case", LINEAGE + (
    "record_id", "unit", "case_number", "last_modified", "status", "record_sha256",
    "export_date", "opened_date", "originating_agency_type", "originating_ori",
    "tracs_report_number", "county_fips",
), {**_VERSION, "export_date": "date", "opened_date": "date"})

SUBJECT = StagingTable("stg_meg__subject", LINEAGE + (
    "record_id", "last_modified", "subject_id", "person_key", "sex", "race",
), _VERSION)

DEFLECTION = StagingTable("stg_meg__deflection", LINEAGE + (
    "record_id", "last_modified", "subject_id", "referral_date", "pathway", "approver_role",
    "approver_id", "approved_at", "approval_date", "approving_unit", "case_manager_agency",
    "case_manager_contact_date", "prosecutor_submission_date", "prosecutor_office",
    "evidence_disposal_date", "evidence_disposal_method", "outcome", "age_at_referral",
), {**_VERSION, "referral_date": "date", "approval_date": "date",
    "case_manager_contact_date": "date", "prosecutor_submission_date": "date",
    "evidence_disposal_date": "date", "age_at_referral": "integer"})

EVALUATION = StagingTable("stg_meg__evaluation", LINEAGE + (
    "record_id", "last_modified", "subject_id", "evaluation_date", "result",
), {**_VERSION, "evaluation_date": "date"})

TABLES = SourceTables(
    kind="meg", parent=CASE, children=(SUBJECT, DEFLECTION, EVALUATION),
    version_column="last_modified", withdrawn_status="VOID",
)
