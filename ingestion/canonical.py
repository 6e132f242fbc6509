"""Canonical rows: the contract between ingestion (which writes them) and the warehouse (which
loads them into staging tables one-to-one, `stg_<source>__<entity>`).

Ingestion never touches the database. For each batch it writes a directory

    <work_dir>/batches/<batch_id>/
        batch.json            run_id, source name, kind, files handled, counts
        <table>.csv           one file per table below, header row = the columns, UTF-8

CSV conventions (chosen so PostgreSQL `COPY ... (FORMAT csv, HEADER true)` and DuckDB
`read_csv` load them as they are): an empty unquoted field is NULL; blank source fields are NULL,
never ''; dates `YYYY-MM-DD`; TraCS instants ISO 8601 with their offset; MEG local date-times ISO
8601 without offset (naive America/Chicago wall-clock, compared as written); booleans `true`/`false`.

Every staging row carries lineage: `source` (configured source name), `file_name`, `file_sha256`,
`record_id` (TraCS formNumber, MEG `Unit/CaseNumber`), its version (`form_version` or
`last_modified`) and `line` (line of the element in the file). Names and birth dates never appear:
extraction turns them into `person_key` and `age_at_referral` (age at the row's own referral date).
"""
from __future__ import annotations

LINEAGE = ("source", "file_name", "file_sha256", "line")

TABLES: dict[str, tuple[str, ...]] = {
    # one row per FieldReport version
    "stg_tracs__field_report": LINEAGE + (
        "record_id", "form_version", "status", "last_modified", "record_sha256",
        "schema_version", "export_id", "export_created_at", "export_date",
        "report_number", "date_occurred", "time_occurred", "division", "originating_agency_type",
        "unit", "officer_badge", "county_fips", "incident_type",
    ),
    # one row per individual of a FieldReport version
    "stg_tracs__individual": LINEAGE + (
        "record_id", "form_version", "seq", "role", "person_key", "sex", "race", "ethnicity",
        "disposition",
    ),
    # one row per deflection element (disposition CD) of a FieldReport version
    "stg_tracs__deflection": LINEAGE + (
        "record_id", "form_version", "seq", "pathway", "approving_unit", "approver_role",
        "approver_id", "approved_at", "approval_date", "referral_date", "case_manager_agency",
        "case_manager_contact_date", "charges_held_in_abeyance", "co_responder_type",
        "age_at_referral",
    ),
    # one row per evidence item of a FieldReport version
    "stg_tracs__evidence_item": LINEAGE + (
        "record_id", "form_version", "seq", "seized", "item_status",
    ),
    # one row per Case version
    "stg_meg__case": LINEAGE + (
        "record_id", "unit", "case_number", "last_modified", "status", "record_sha256",
        "export_date", "opened_date", "originating_agency_type", "originating_ori",
        "tracs_report_number", "county_fips",
    ),
    "stg_meg__subject": LINEAGE + (
        "record_id", "last_modified", "subject_id", "person_key", "sex", "race",
    ),
    "stg_meg__deflection": LINEAGE + (
        "record_id", "last_modified", "subject_id", "referral_date", "pathway", "approver_role",
        "approver_id", "approved_at", "approval_date", "approving_unit", "case_manager_agency",
        "case_manager_contact_date", "prosecutor_submission_date", "prosecutor_office",
        "evidence_disposal_date", "evidence_disposal_method", "outcome", "age_at_referral",
    ),
    "stg_meg__evaluation": LINEAGE + (
        "record_id", "last_modified", "subject_id", "evaluation_date", "result",
    ),
}

# Bookkeeping rows written beside the canonical rows of a batch.
BOOKKEEPING: dict[str, tuple[str, ...]] = {
    # every remote data file seen this run, one row per (source, remote_name, sha256) handled
    "file_ledger": (
        "source", "remote_name", "size", "mtime", "sha256", "status", "run_id", "landing_path",
        "duplicate_of", "records_loaded", "records_quarantined", "handled_at",
    ),
    # every finding of deflection-rules.md §5 at file and record level
    "finding": (
        "run_id", "source", "file_name", "file_sha256", "record_id", "record_sha256",
        "code", "level", "line", "column", "path", "message",
    ),
    # one row per quarantined file or record; raw bytes kept under landing_dir/quarantine/
    "quarantine": (
        "quarantine_id", "run_id", "source", "file_name", "file_sha256", "level", "record_id",
        "record_version", "record_sha256", "codes", "line", "raw_path",
    ),
}

LEDGER_STATUSES = ("pending", "loaded", "quarantined", "duplicate")


# --- what ingestion needs to know of earlier runs (read from the warehouse's file ledger) -------

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LedgerEntry:
    """A remote data file handled by an earlier run (one row of the warehouse's file ledger)."""

    remote_name: str
    size: int | None
    mtime: int | None  # seconds since the epoch, as listed
    sha256: str | None  # None while pending (never downloaded)
    status: str  # one of LEDGER_STATUSES


@dataclass
class LedgerSnapshot:
    """Everything a source's earlier runs handled: by remote name, and every content digest."""

    by_name: dict[str, list[LedgerEntry]] = field(default_factory=dict)
    digests: set[str] = field(default_factory=set)


# batch.json keys (one JSON object per batch directory)
BATCH_KEYS = (
    "batch_id", "run_id", "source", "kind", "started_at", "finished_at", "status", "error",
    "files_seen", "files_loaded", "files_pending", "files_quarantined", "files_duplicate",
    "records_extracted", "records_quarantined",
)
