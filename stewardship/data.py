"""Every warehouse query of the stewardship package, in one module.

Reads only the public `reporting` and `quality` views of reporting-contract.md (plus the file
ledger and the quarantine view the warehouse exposes to stewards), so a change in the warehouse's
internals, or in its connection API, is a change here and nowhere else. Functions take an open
warehouse object with `read_frame(sql, params)` and `execute(sql, params)` (`?` placeholders,
the project's convention for both dialects).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator, Sequence

import pandas as pd

FINDING_COLUMNS = (
    "run_id",
    "source",
    "file_name",
    "record_id",
    "deflection_id",
    "code",
    "level",
    "line",
    "column",
    "path",
    "message",
)
# The per-source counts of a run (reporting.load_run), in the order the report shows them.
LOAD_RUN_COUNTS = (
    "files_seen",
    "files_loaded",
    "files_pending",
    "files_quarantined",
    "files_duplicate",
    "records_loaded",
    "records_quarantined",
)
LOAD_RUN_COLUMNS = ("run_id", "source", "started_at", "finished_at", "as_of",
                    *LOAD_RUN_COUNTS, "status")
# ingestion/canonical.py BOOKKEEPING["quarantine"]
QUARANTINE_COLUMNS = (
    "quarantine_id",
    "run_id",
    "source",
    "file_name",
    "file_sha256",
    "level",
    "record_id",
    "record_version",
    "record_sha256",
    "codes",
    "line",
    "raw_path",
)
REVIEW_COLUMNS = ("quarantine_id", "status", "note", "reviewed_by", "reviewed_at")
REVIEW_STATUSES = ("reviewed", "resolved")
# The views the expectation suites read whole (names are fixed here, never taken from input).
REPORTING_VIEWS = (
    "reporting.deflection",
    "reporting.deflection_counts",
    "reporting.followup_compliance",
    "reporting.load_run",
)


def missing(value) -> bool:
    """None, pandas' NA/NaT, or a float NaN: a cell with no value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _q(name: str) -> str:
    return '"' + name + '"'


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(_q(c) for c in columns)


@contextlib.contextmanager
def open_warehouse(config, read_only: bool = True) -> Iterator[object]:
    """The configured warehouse, opened through the warehouse package."""
    import warehouse

    connect = getattr(warehouse, "connect", None)
    if connect is None:  # before the package exports it at the top level
        from warehouse.backend import connect
    try:
        wh = connect(config.warehouse, read_only=read_only)
    except TypeError:  # a connect() without the read_only option
        wh = connect(config.warehouse)
    try:
        yield wh
    finally:
        wh.close()


def _where(filters: dict) -> tuple[str, list]:
    clauses, params = [], []
    for column, value in filters.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set)):
            values = list(value)
            if not values:
                clauses.append("false")
                continue
            clauses.append(f"{_q(column)} in ({', '.join('?' for _ in values)})")
            params.extend(values)
        else:
            clauses.append(f"{_q(column)} = ?")
            params.append(value)
    return (" where " + " and ".join(clauses)) if clauses else "", params


# --- runs -------------------------------------------------------------------------------------
def load_runs(wh, run_id: str) -> pd.DataFrame:
    """`reporting.load_run` rows of one run, one per source."""
    where, params = _where({"run_id": run_id})
    return wh.read_frame(
        f"select {_cols(LOAD_RUN_COLUMNS)} from reporting.load_run{where} order by source", params
    )


def run_ids(wh, up_to: str | None = None, limit: int | None = None) -> list[str]:
    """Run ids known to the warehouse, oldest first (run ids start with a UTC timestamp)."""
    frame = wh.read_frame("select distinct run_id from reporting.load_run")
    ids = sorted(str(r) for r in frame["run_id"].tolist())
    if up_to is not None:
        ids = [r for r in ids if r <= up_to]
    return ids[-limit:] if limit else ids


def load_runs_for(wh, runs: Sequence[str]) -> pd.DataFrame:
    where, params = _where({"run_id": list(runs)})
    return wh.read_frame(
        f"select {_cols(LOAD_RUN_COLUMNS)} from reporting.load_run{where} order by run_id, source",
        params,
    )


# --- findings ---------------------------------------------------------------------------------
def findings(
    wh,
    run_id: str | None = None,
    source: str | None = None,
    levels: Sequence[str] | None = None,
    file_name: str | None = None,
    record_id: str | None = None,
) -> pd.DataFrame:
    where, params = _where(
        {
            "run_id": run_id,
            "source": source,
            "level": list(levels) if levels else None,
            "file_name": file_name,
            "record_id": record_id,
        }
    )
    return wh.read_frame(
        f"select {_cols(FINDING_COLUMNS)} from quality.finding{where} "
        f"order by source, file_name, line, code",
        params,
    )


def finding_counts(wh, runs: Sequence[str]) -> pd.DataFrame:
    """Findings per (run, source, code) for the runs given."""
    where, params = _where({"run_id": list(runs)})
    return wh.read_frame(
        f"select run_id, source, code, level, count(*) as findings from quality.finding{where} "
        f"group by run_id, source, code, level order by run_id, source, code",
        params,
    )


# --- quarantine -------------------------------------------------------------------------------
def quarantine(
    wh, run_id: str | None = None, source: str | None = None, quarantine_id: str | None = None
) -> pd.DataFrame:
    """Quarantine entries; `load_status` is the warehouse's own state ('open' until a later
    version of the record loads, then 'resolved', with `resolved_run_id`), None when the view
    does not carry it."""
    where, params = _where({"run_id": run_id, "source": source, "quarantine_id": quarantine_id})
    frame = wh.read_frame(f"select * from quality.quarantine{where}", params)
    frame = frame.rename(columns={"status": "load_status"})
    for c in QUARANTINE_COLUMNS + ("load_status", "resolved_run_id"):
        if c not in frame.columns:
            frame[c] = None
    frame = frame[list(QUARANTINE_COLUMNS) + ["load_status", "resolved_run_id"]]
    return frame.sort_values(
        ["run_id", "source", "file_name", "line"], na_position="first", kind="stable"
    ).reset_index(drop=True)


def file_ledger(wh, source: str, file_name: str) -> pd.DataFrame:
    """Every ledger row of one remote file name (its lineage: versions, replays, duplicates)."""
    return wh.read_frame(
        "select * from quality.file_ledger where source = ? and remote_name = ? "
        "order by handled_at",
        [source, file_name],
    )


# --- review audit trail -----------------------------------------------------------------------
def ensure_review_table(wh) -> None:
    """TRANSITIONAL: create quality.quarantine_review when the warehouse's migrations have not.

    The warehouse owns its tables; this keeps the steward commands usable until its migrations
    create this one (same columns). Append-only: the latest row of an entry is its state.
    """
    wh.execute("create schema if not exists quality")
    wh.execute(
        "create table if not exists quality.quarantine_review ("
        "quarantine_id text not null, status text not null, note text, "
        "reviewed_by text not null, reviewed_at timestamp with time zone not null)"
    )


def add_review(
    wh, quarantine_id: str, status: str, note: str | None, who: str, when: dt.datetime
) -> None:
    wh.execute(
        f"insert into quality.quarantine_review ({_cols(REVIEW_COLUMNS)}) values (?, ?, ?, ?, ?)",
        [quarantine_id, status, note, who, when],
    )


def reviews(wh, quarantine_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Review rows, oldest first; an empty frame when the table does not exist yet."""
    where, params = _where(
        {"quarantine_id": list(quarantine_ids) if quarantine_ids is not None else None}
    )
    try:
        return wh.read_frame(
            f"select {_cols(REVIEW_COLUMNS)} from quality.quarantine_review{where} "
            f"order by reviewed_at",
            params,
        )
    except Exception as exc:  # the table is created on the first review
        if "quarantine_review" in str(exc):
            return pd.DataFrame(columns=list(REVIEW_COLUMNS))
        raise


# --- reporting views --------------------------------------------------------------------------
def deflection_flags(wh) -> pd.DataFrame:
    """(approving_unit_code, flags) of every counted deflection: the flags that apply now."""
    return wh.read_frame(
        "select approving_unit_code, flags from reporting.deflection "
        "where flags is not null and flags <> ''"
    )


def reporting_view(wh, view: str) -> pd.DataFrame:
    if view not in REPORTING_VIEWS:
        raise ValueError(f"not a reporting view the suites read: {view}")
    return wh.read_frame(f"select * from {view}")
