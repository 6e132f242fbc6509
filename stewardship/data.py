"""Every warehouse query of the stewardship package, in one module.

Reads only the public `reporting` and `quality` views of reporting-contract.md (plus the file
ledger and the quarantine view the warehouse exposes to stewards, and, for the reporting suites,
which deflections a run changed: marts.fct_deflection.changed_run_id), so a change in the
warehouse's internals, or in its connection API, is a change here and nowhere else. Functions take an open
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
# What a steward may mark. `resolved` is what a later version's load makes an entry; a steward
# who writes it means "closed by hand", which is recorded (and read, for old rows) as `dismissed`.
REVIEW_STATUSES = ("reviewed", "dismissed")
REVIEW_ALIASES = {"resolved": "dismissed"}
# Every state of an entry, as quality.quarantine_state derives them (migration 0014).
STATES = ("open", "superseded", "resolved", "replayed", "reviewed", "dismissed")
STATE_COLUMNS = ("state", "state_run_id", "review_status", "reviewed_by", "reviewed_at",
                 "review_note")
REPLAY_COLUMNS = ("run_id", "source", "file_name", "original_path", "sha256",
                  "replay_of_run_id", "entry_id", "replayed_by", "replayed_at")
# The views the expectation suites read (names are fixed here, never taken from input).
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
    run_id: str | Sequence[str] | None = None,
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


# --- quarantine -------------------------------------------------------------------------------
def quarantine(
    wh,
    run_id: str | None = None,
    source: str | None = None,
    quarantine_id: str | None = None,
    state: str | None = None,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Quarantine entries with their state, as `quality.quarantine` derives it (the one place
    it is derived). `load_status` is the warehouse's own load state ('open' until a later
    version of the record loads, then 'resolved', with `resolved_run_id`)."""
    where, params = _where(
        {
            "run_id": run_id,
            "source": list(sources) if sources is not None else source,
            "quarantine_id": quarantine_id,
            "state": state,
        }
    )
    frame = wh.read_frame(f"select * from quality.quarantine{where}", params)
    frame = frame.rename(columns={"status": "load_status"})
    extra = ["load_status", "resolved_run_id", *STATE_COLUMNS]
    frame = frame[list(QUARANTINE_COLUMNS) + extra]
    return frame.sort_values(
        ["run_id", "source", "file_name", "line"], na_position="first", kind="stable"
    ).reset_index(drop=True)


def night_entries(wh, run_id: str, closed_by: str | None, keep_from: str | None) -> pd.DataFrame:
    """The entries a night can show (`data.quarantine`'s columns): those quarantined up to run
    `run_id`, less those quarantined at or before run `closed_by` (the previous night) that a
    load closed at or before it: closed as of the night and of the night before, they are in
    none of its groups. Kept anyway when quarantined at or after run `keep_from` (the trend
    counts every entry of its nights). Years of nights leave many more closed entries than a
    night shows: they are not read out (the state view still derives every state, in SQL)."""
    where, params = "where (run_id <= ? or run_id is null)", [run_id]
    if closed_by is not None:
        where += (" and (run_id > ? or run_id >= ? "
                  "or state not in ('resolved', 'superseded', 'replayed') "
                  "or state_run_id is null or state_run_id > ?)")
        params += [closed_by, keep_from or run_id, closed_by]
    frame = wh.read_frame(f"select * from quality.quarantine {where}", params)
    frame = frame.rename(columns={"status": "load_status"})
    frame = frame[list(QUARANTINE_COLUMNS) + ["load_status", "resolved_run_id", *STATE_COLUMNS]]
    return frame.sort_values(
        ["run_id", "source", "file_name", "line"], na_position="first", kind="stable"
    ).reset_index(drop=True)


def quarantine_ids_like(wh, prefix: str) -> list[str]:
    """Entry ids starting with `prefix` (a steward types the first characters of one)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    frame = wh.read_frame(
        "select quarantine_id from quality.quarantine where quarantine_id like ? escape '\\' "
        "order by quarantine_id",
        [escaped + "%"],
    )
    return [str(x) for x in frame["quarantine_id"].tolist()]


def file_ledger(wh, source: str, file_name: str) -> pd.DataFrame:
    """Every ledger row of one remote file name (its lineage: versions, replays, duplicates)."""
    return wh.read_frame(
        "select * from quality.file_ledger where source = ? and remote_name = ? "
        "order by handled_at",
        [source, file_name],
    )


# --- review audit trail -----------------------------------------------------------------------
def add_review(
    wh, quarantine_id: str, status: str, note: str | None, who: str, when: dt.datetime
) -> None:
    wh.execute(
        f"insert into quality.quarantine_review ({_cols(REVIEW_COLUMNS)}) values (?, ?, ?, ?, ?)",
        [quarantine_id, status, note, who, when],
    )


def reviews(wh, quarantine_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Review rows, oldest first. The table is the warehouse's (migration 0009): a steward's
    account may write marks but creates nothing."""
    where, params = _where(
        {"quarantine_id": list(quarantine_ids) if quarantine_ids is not None else None}
    )
    return wh.read_frame(
        f"select {_cols(REVIEW_COLUMNS)} from quality.quarantine_review{where} "
        f"order by reviewed_at",
        params,
    )


# --- replays ----------------------------------------------------------------------------------
def add_replay(wh, record: dict) -> None:
    """Record a replay run in meta.replay, where the entry states can see it."""
    wh.execute(
        f"insert into meta.replay ({_cols(REPLAY_COLUMNS)}) values "
        f"({', '.join('?' for _ in REPLAY_COLUMNS)})",
        [record.get(c) for c in REPLAY_COLUMNS],
    )


def replays(wh, run_ids: Sequence[str] | None = None) -> pd.DataFrame:
    where, params = _where({"run_id": list(run_ids) if run_ids is not None else None})
    return wh.read_frame(
        f"select {_cols(REPLAY_COLUMNS)} from meta.replay{where} order by run_id", params
    )


def latest_run_handling(wh, source: str, file_name: str) -> str | None:
    """The latest run whose ledger handled a file of that name for that source."""
    frame = wh.read_frame(
        "select max(run_id) as run_id from quality.file_ledger "
        "where source = ? and remote_name = ?",
        [source, file_name],
    )
    value = frame["run_id"].iloc[0] if not frame.empty else None
    return None if missing(value) else str(value)


def as_of_of(wh, run_id: str) -> dt.date | None:
    frame = wh.read_frame(
        "select max(as_of) as as_of from reporting.load_run where run_id = ?", [run_id]
    )
    value = frame["as_of"].iloc[0] if not frame.empty else None
    if missing(value):
        return None
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) \
        else pd.Timestamp(value).date()


# --- reporting views --------------------------------------------------------------------------
def deflection_flags(wh) -> pd.DataFrame:
    """(deflection_id, approving_unit_code, flags) of every counted deflection that carries a
    flag: the flags that apply now. Deflection ids are not personal data."""
    return wh.read_frame(
        "select deflection_id, approving_unit_code, flags from reporting.deflection "
        "where flags is not null and flags <> '' order by approving_unit_code, deflection_id"
    )


def reporting_view(wh, view: str, run_id: str | None = None,
                   changed_in: str | None = None) -> pd.DataFrame:
    """The rows of a reporting view an expectation suite checks: every row; those of `run_id`
    (a view with a run_id column: reporting.load_run); or, for reporting.deflection, those the
    refresh of run `changed_in` inserted or changed (marts.fct_deflection.changed_run_id, the one
    column read outside the public views: the contract fixes the view's columns)."""
    if view not in REPORTING_VIEWS:
        raise ValueError(f"not a reporting view the suites read: {view}")
    if changed_in is not None:
        if view != "reporting.deflection":
            raise ValueError(f"only reporting.deflection knows which rows a run changed: {view}")
        return wh.read_frame(
            "select * from reporting.deflection where deflection_id in (select deflection_id "
            "from marts.fct_deflection where changed_run_id = ?)", [changed_in])
    if run_id is not None:
        return wh.read_frame(f"select * from {view} where run_id = ?", [run_id])
    return wh.read_frame(f"select * from {view}")


def reporting_rows(wh, view: str) -> int:
    """How many rows a reporting view has (what a suite over part of it checked a part of)."""
    if view not in REPORTING_VIEWS:
        raise ValueError(f"not a reporting view the suites read: {view}")
    return int(wh.scalar(f"select count(*) from {view}"))
