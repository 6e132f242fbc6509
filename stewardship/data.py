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


def findings_of_entries(wh, run_id: str, entries: pd.DataFrame,
                        levels: Sequence[str] | None = None) -> pd.DataFrame:
    """The findings of run `run_id`, and of the files of `entries` (quarantine rows) that
    other runs quarantined: every finding an entry of `entries` can have, and those of the
    files around it only (a superset that is bounded by the entries, not by their runs)."""
    parts = [findings(wh, run_id=run_id, levels=levels)]
    older = entries[entries["run_id"].notna() & (entries["run_id"].astype(str) != run_id)]
    files = sorted(set(zip(older["run_id"].astype(str), older["file_name"].astype(str))))
    for i in range(0, len(files), FILES_PER_QUERY):
        chunk = files[i:i + FILES_PER_QUERY]
        where, params = _where({"run_id": sorted({r for r, _ in chunk}),
                                "file_name": sorted({f for _, f in chunk}),
                                "level": list(levels) if levels else None})
        parts.append(wh.read_frame(
            f"select {_cols(FINDING_COLUMNS)} from quality.finding{where}", params))
    if not any(len(p) for p in parts[1:]):
        return parts[0]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    return frame.sort_values(["source", "file_name", "line", "code"], na_position="last",
                             kind="stable").reset_index(drop=True)


FILES_PER_QUERY = 500  # (run, file) pairs a findings query names at most


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


CARRIED_COLUMNS = ("source", "level", "codes", "state_then", "entries", "oldest", "newest",
                   "ids")
_ENTRY_COLUMNS = (*QUARANTINE_COLUMNS, "status", "resolved_run_id", *STATE_COLUMNS)
_COUNTED_BY = ("source", "level", "codes", "state_then")


def night_entries(wh, run_id: str, then: tuple[str, list], closed_by: str | None,
                  before: tuple[str, list] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The entries of a night, in one reading of the state view: (shown, carried).

    `shown`: the entries the night shows one by one (`data.quarantine`'s columns), those run
    `run_id` quarantined and those quarantined before it that are closed as of it but not as
    of run `closed_by` (the previous night). `carried`: the entries quarantined before it and
    not closed as of it (carried over), counted per source, level, codes and state then
    (CARRIED_COLUMNS: how many, the oldest and newest runs that quarantined them, their ids, a
    sorted list). `then` and `before`: the entry's state as of the run and as of `closed_by`,
    as SQL (stewardship.tonight.state_sql). Years of nights leave many entries open and more
    closed: neither is read out."""
    state, params = then
    closed = f"state_then in ({', '.join('?' for _ in CLOSED_STATES)})"
    older = f"(run_id < ? or run_id is null) and {closed}"
    shown_params = [run_id, run_id, *CLOSED_STATES]
    if before is not None:  # closed as of the previous night: in none of the night's groups
        closed_before, more = _closed_sql(before)
        older += f" and (run_id > ? or not {closed_before})"
        shown_params += [closed_by, *more]
    carried_cols = ", ".join(c if c in _COUNTED_BY else "null" for c in (*_ENTRY_COLUMNS,
                                                                           "state_then"))
    # An entry quarantined by the previous night or before and closed by a load by then is in
    # none of the parts (closed then and before: state_sql). Most entries of years of nights
    # are: the condition is on the entry's own columns (migration 0026), so the warehouse
    # leaves them out as it reads the table and derives the state of the others only.
    settled, settled_params = "", []
    if before is not None:
        settled = (" and not ((run_id <= ? or run_id is null) and state_run_id is not null "
                   "and state_run_id <= ?)")
        settled_params = [closed_by, closed_by]
    frame = wh.read_frame(
        f"with e as materialized (select {_cols(_ENTRY_COLUMNS)}, {state} as state_then "
        f"from quality.quarantine where (run_id <= ? or run_id is null){settled}) "
        f"select 'shown' as part, {_cols(_ENTRY_COLUMNS)}, state_then, null as entries, "
        "null as oldest, null as newest, null as ids "
        f"from e where run_id = ? or ({older}) "
        f"union all select 'carried' as part, {carried_cols}, count(*) as entries, "
        "min(run_id) as oldest, max(run_id) as newest, string_agg(quarantine_id, ',') as ids "
        f"from e where (run_id < ? or run_id is null) and not {closed} "
        "group by source, level, codes, state_then",
        [*params, run_id, *settled_params, *shown_params, run_id, *CLOSED_STATES])
    shown = frame[frame["part"] == "shown"].rename(columns={"status": "load_status"})
    shown = shown[list(QUARANTINE_COLUMNS) + ["load_status", "resolved_run_id",
                                              *STATE_COLUMNS]]
    shown = shown.sort_values(
        ["run_id", "source", "file_name", "line"], na_position="first", kind="stable"
    ).reset_index(drop=True)
    carried = frame[frame["part"] == "carried"]
    if carried.empty:
        return shown, pd.DataFrame(columns=list(CARRIED_COLUMNS))
    carried = carried[list(CARRIED_COLUMNS)].copy()
    carried["entries"] = carried["entries"].astype(int)
    carried["ids"] = [sorted(str(v).split(",")) for v in carried["ids"]]
    return shown, carried.sort_values(list(_COUNTED_BY), na_position="first",
                                      kind="stable").reset_index(drop=True)


def entry_counts(wh, runs: Sequence[str]) -> pd.DataFrame:
    """(run_id, source, codes, entries): the entries each of `runs` quarantined, whatever
    their state now (a trend over nights), counted in the warehouse."""
    if not runs:
        return pd.DataFrame(columns=["run_id", "source", "codes", "entries"])
    frame = wh.read_frame(
        "select run_id, source, codes, count(*) as entries from meta.quarantine "
        f"where run_id in ({', '.join('?' for _ in runs)}) group by run_id, source, codes",
        list(runs))
    frame["entries"] = frame["entries"].astype(int)
    return frame


# An entry's states that close it (stewardship.tonight): by a load, or by a steward's dismissal.
CLOSED_STATES = ("resolved", "superseded", "replayed", "dismissed")


def _closed_sql(state: tuple[str, list]) -> tuple[str, list]:
    sql, params = state
    return f"({sql}) in ({', '.join('?' for _ in CLOSED_STATES)})", [*params, *CLOSED_STATES]


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
def flag_counts(wh) -> pd.DataFrame:
    """(unit, code, deflections): per approving unit and W-flag, how many counted deflections
    carry it now. Counted in the warehouse per combination of flags, split here: years of
    flagged deflections are not read out."""
    combos = wh.read_frame(
        "select approving_unit_code, flags, count(*) as n from reporting.deflection "
        "where flags is not null and flags <> '' group by approving_unit_code, flags")
    counts: dict[tuple[str, str], int] = {}
    for unit, flags, n in zip(combos["approving_unit_code"], combos["flags"], combos["n"],
                              strict=True):
        for code in {c for c in str(flags).split(",") if c}:
            counts[(unit, code)] = counts.get((unit, code), 0) + int(n)
    return pd.DataFrame([(u, c, n) for (u, c), n in sorted(counts.items())],
                        columns=["unit", "code", "deflections"])


def flagged_ids(wh, codes: Sequence[str], limit: int) -> dict[tuple[str, str], list[str]]:
    """Per approving unit and W-flag of `codes`, the first `limit` deflection ids (in id order)
    carrying it now, in one reading of the deflections. Deflection ids are not personal
    data. Read per unit and combination of flags (the first `limit` of each), then merged per
    code here: the first `limit` carrying a code are among the first `limit` of each
    combination that holds it. (Matching every deflection's flags against every code with
    LIKE took 1.2 s over five years of deflections.)"""
    wanted = set(codes)
    if not wanted:
        return {}
    rows = wh.query(
        "select approving_unit_code, flags, deflection_id from (select approving_unit_code, "
        "flags, deflection_id, row_number() over (partition by approving_unit_code, flags "
        "order by deflection_id) as nth from reporting.deflection "
        "where flags is not null and flags <> '') f where nth <= ?", [limit])
    found: dict[tuple[str, str], list[str]] = {}
    for unit, flags, deflection_id in rows:
        for code in {c for c in str(flags).split(",") if c} & wanted:
            found.setdefault((unit, code), []).append(str(deflection_id))
    return {key: sorted(ids)[:limit] for key, ids in sorted(found.items())}


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
