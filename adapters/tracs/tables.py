"""The canonical tables TraCS rows are written to and staged in (one row per FieldReport version,
and its individuals, deflections and evidence items). The warehouse creates and loads them from
this declaration; tests/warehouse checks it against the migrated tables."""
from __future__ import annotations

from deflect.core.canonical import LINEAGE, SourceTables, StagingTable

_VERSION = {"line": "integer", "form_version": "integer"}

FIELD_REPORT = StagingTable("stg_tracs__field_report", LINEAGE + (
    "record_id", "form_version", "status", "last_modified", "record_sha256",
    "schema_version", "export_id", "export_created_at", "export_date",
    "report_number", "date_occurred", "time_occurred", "division", "originating_agency_type",
    "unit", "officer_badge", "county_fips", "incident_type",
), {**_VERSION, "export_date": "date", "date_occurred": "date"})

INDIVIDUAL = StagingTable("stg_tracs__individual", LINEAGE + (
    "record_id", "form_version", "seq", "role", "person_key", "sex", "race", "ethnicity",
    "disposition",
), {**_VERSION, "seq": "integer"})

# one row per deflection element (disposition CD)
DEFLECTION = StagingTable("stg_tracs__deflection", LINEAGE + (
    "record_id", "form_version", "seq", "pathway", "approving_unit", "approver_role",
    "approver_id", "approved_at", "approval_date", "referral_date", "case_manager_agency",
    "case_manager_contact_date", "charges_held_in_abeyance", "co_responder_type",
    "age_at_referral",
), {**_VERSION, "seq": "integer", "approval_date": "date", "referral_date": "date",
    "case_manager_contact_date": "date", "age_at_referral": "integer"})

EVIDENCE_ITEM = StagingTable("stg_tracs__evidence_item", LINEAGE + (
    "record_id", "form_version", "seq", "seized", "item_status",
), {**_VERSION, "seq": "integer"})

TABLES = SourceTables(
    kind="tracs", parent=FIELD_REPORT, children=(INDIVIDUAL, DEFLECTION, EVIDENCE_ITEM),
    version_column="form_version", withdrawn_status="Voided",
)
