"""Canonical rows: the contract between ingestion (which writes them) and the warehouse (which
loads them into staging tables one-to-one, `stg_<source>__<entity>`).

Ingestion never touches the database. For each batch it writes a directory

    <work_dir>/batches/<batch_id>/
        batch.json            run_id, source name, kind, files handled, counts
        <table>.csv           one file per staging table of the source's kind and per
                              bookkeeping table below, header row = the columns, UTF-8

CSV conventions (chosen so PostgreSQL `COPY ... (FORMAT csv, HEADER true)` and DuckDB
`read_csv` load them as they are): an empty unquoted field is NULL; blank source fields are NULL,
never ''; dates `YYYY-MM-DD`; TraCS instants ISO 8601 with their offset; MEG local date-times ISO
8601 without offset (naive America/Chicago wall-clock, compared as written); booleans `true`/`false`.

The staging tables of each source kind are declared by its adapter (`adapters/<kind>/tables.py`,
as `SourceTables`); this module holds what every kind shares. Every staging row carries lineage: `source` (configured source name), `file_name`, `file_sha256`,
`record_id` (TraCS formNumber, MEG `Unit/CaseNumber`), its version (`form_version` or
`last_modified`) and `line` (line of the element in the file). Names and birth dates never appear:
extraction turns them into `person_key` and `age_at_referral` (age at the row's own referral date).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LINEAGE = ("source", "file_name", "file_sha256", "line")


@dataclass(frozen=True, eq=False)
class StagingTable:
    """One canonical table: its columns in CSV order (lineage first) and the SQL type of each
    column that is not text. Staged one-to-one as `staging.<name>`."""

    name: str
    columns: tuple[str, ...]
    types: Mapping[str, str] = field(default_factory=dict)

    def sql_type(self, column: str) -> str:
        return self.types.get(column, "text")


@dataclass(frozen=True, eq=False)
class SourceTables:
    """What one source kind stages: a parent table with one row per record version, its child
    tables, the version column that orders a record's versions, and the status that withdraws
    a record (its deflections stop counting while staging keeps the history)."""

    kind: str
    parent: StagingTable
    children: tuple[StagingTable, ...]
    version_column: str
    withdrawn_status: str

    @property
    def tables(self) -> tuple[StagingTable, ...]:
        return (self.parent, *self.children)

    @property
    def version_type(self) -> str:
        return self.parent.sql_type(self.version_column)


def table_columns(kinds) -> dict[str, tuple[str, ...]]:
    """name -> columns of every staging table of the given `SourceTables`."""
    return {t.name: t.columns for k in kinds for t in k.tables}


# Bookkeeping rows written beside the canonical rows of a batch.
BOOKKEEPING: dict[str, tuple[str, ...]] = {
    # every remote data file seen this run, one row per (source, remote_name, sha256) handled
    "file_ledger": (
        "source", "remote_name", "size", "mtime", "sha256", "status", "run_id", "landing_path",
        "duplicate_of", "records_loaded", "records_quarantined", "handled_at",
        # the completion marker as listed (a new marker is a new delivery), and the basis of a
        # decision that depends on more than the bytes (ingestion.plan.decision_basis)
        "marker_mtime", "marker_size", "basis",
        # records of the file accepted before (same record id and record SHA-256), neither
        # validated nor extracted again: loaded + quarantined + already accepted = its records
        "records_already_accepted",
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


@dataclass(frozen=True)
class LedgerEntry:
    """A remote data file handled by an earlier run (one row of the warehouse's file ledger)."""

    remote_name: str
    size: int | None
    mtime: int | None  # seconds since the epoch, as listed
    sha256: str | None  # None while pending (never downloaded)
    status: str  # one of LEDGER_STATUSES
    marker_mtime: int | None = None  # the completion marker as listed then
    marker_size: int | None = None
    basis: str | None = None  # what a quarantine decision depended on


@dataclass
class LedgerSnapshot:
    """Everything a source's earlier runs handled: by remote name, and every content digest."""

    by_name: dict[str, list[LedgerEntry]] = field(default_factory=dict)
    digests: set[str] = field(default_factory=set)  # of files loaded: a copy is a duplicate


# batch.json keys (one JSON object per batch directory)
BATCH_KEYS = (
    "batch_id", "run_id", "source", "kind", "started_at", "finished_at", "status", "error",
    "files_seen", "files_loaded", "files_pending", "files_quarantined", "files_duplicate",
    "records_extracted", "records_quarantined", "records_already_accepted",
)
