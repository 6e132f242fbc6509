"""Is tonight OK? The night's figures a data steward reads first, from the entry states.

One definition of every figure, used by the validation report's first screen, `deflect
quarantine` and anything else that shows a night (an Airflow UI plugin shows the same figures
by calling `tonight`). Everything comes from `quality.quarantine` (whose `state` column is
`quality.quarantine_state`, the one place an entry's state is derived), `reporting.load_run`,
`quality.file_ledger` and `meta.replay`.

The entry is the unit of every count. A file or record that the pipeline rejects again on a
later night (an F04 transfer retried, a corrupted record a cumulative MEG file resends) is the
same entry, carried over; it is never counted a second time.

State of an entry as of a run R. An entry exists from the run that quarantined it. It is
*closed* as of R when a load at or before R resolved, superseded or replayed it
(`state_run_id <= R`), or when a steward dismissed it before the run after R started; it is
*reviewed* (waiting on the source) when the latest mark made before the run after R started
says so; else it is *open*. For the newest run this is exactly the state `quarantine list`
shows, and the figures of an older run do not change when its report is written again later.
Only the latest mark of an entry is known to the state view: when it is later than R, R sees
the entry without a mark.

    new       entries quarantined by run R that are not closed as of R
    carried   entries quarantined before R that are not closed as of R (open or reviewed)
    resolved  entries quarantined before R, closed as of R but not as of the previous night
              (the latest run before R that is not a replay)

An entry quarantined by R and already closed as of R (a corrupted copy of a version loaded
validly from another file) is in none of the three: it never needed a steward.

Verdict of the night:

    failed            no run is recorded, or a source of run R failed (`reporting.load_run`
                      status other than ok: its files were not all processed)
    needs attention   an entry is open as of R (new or carried over, and not yet reviewed), or
                      a file has been pending (listed without its completion marker) for
                      PENDING_DAYS days or more
    OK                none of these: every entry is closed or waiting on its source
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from stewardship import data

PENDING_DAYS = 2  # a transfer that has not completed for this many days needs a look
CLOSED_BY_LOAD = ("resolved", "superseded", "replayed")
VERDICTS = ("OK", "needs attention", "failed")
TODO_LIMIT = 3


@dataclass(frozen=True)
class PendingFile:
    source: str
    file_name: str
    age_days: int
    reason: str


@dataclass(frozen=True)
class SourceTonight:
    source: str
    files_loaded: int
    records_loaded: int
    records_quarantined: int  # record entries run R quarantined (each identity once)
    new: int
    carried: int
    resolved: int


@dataclass(frozen=True)
class Tonight:
    run_id: str | None
    as_of: dt.date | None
    verdict: str  # "OK" | "needs attention" | "failed"
    new: list[str]
    carried: list[str]
    resolved: list[str]  # entry ids vs the previous night
    pending: list[PendingFile]  # files seen but not loaded, with age in days
    todo: list[str]  # at most three things to do first, most urgent first
    sources: list[SourceTonight]


@dataclass(frozen=True)
class Night:
    """What `tonight` works from, for whoever shows more than the summary (the report): the
    entries the night shows one by one (`read_night`: new, arrived, resolved), with their state
    as of the run (`state_then`) and as of the previous night (`state_before`); the entries
    carried over, counted (`data.night_entries`); and the run's own rows."""

    tonight: Tonight
    previous_run_id: str | None
    entries: pd.DataFrame  # quality.quarantine rows + state_then, state_before, night
    load_runs: pd.DataFrame
    failed_sources: list[str] = field(default_factory=list)
    is_replay: bool = False
    carried: pd.DataFrame = field(  # data.CARRIED_COLUMNS: counted per source, level, codes
        default_factory=lambda: pd.DataFrame(columns=list(data.CARRIED_COLUMNS)))


def run_started(run_id: str) -> dt.datetime | None:
    """The UTC start a run id begins with (`YYYYmmddTHHMMSSZ-…`), or None for another id."""
    try:
        return dt.datetime.strptime(str(run_id)[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _utc(value) -> dt.datetime | None:
    if data.missing(value):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def state_as_of(entry: dict, run_id: str, marks_before: dt.datetime | None) -> str:
    """The entry's state as of `run_id` (module docstring): closed by a load at or before the
    run, else the latest mark made before `marks_before` (None: any mark), else open."""
    state, by = entry.get("state"), entry.get("state_run_id")
    if state in CLOSED_BY_LOAD and not data.missing(by) and str(by) <= run_id:
        return str(state)
    mark = entry.get("review_status")
    if mark in ("reviewed", "dismissed"):
        at = _utc(entry.get("reviewed_at"))
        if marks_before is None or at is None or at < marks_before:
            return str(mark)
    return "open"


def state_sql(run_id: str, marks_before: dt.datetime | None) -> tuple[str, list]:
    """`state_as_of` as an SQL expression over quality.quarantine's columns, and its
    parameters: the entries a night only counts are counted in the warehouse, by the same
    definition (tests compare the two on every night of their fixtures)."""
    closed = ", ".join(f"'{s}'" for s in CLOSED_BY_LOAD)
    mark = "review_status in ('reviewed', 'dismissed')"
    params: list = [run_id]
    if marks_before is not None:
        mark += " and (reviewed_at is null or reviewed_at < ?)"
        params.append(marks_before)
    sql = (f"case when state in ({closed}) and state_run_id is not null and state_run_id <= ? "
           f"then state when {mark} then review_status else 'open' end")
    return sql, params


def is_closed(state: str) -> bool:
    return state in data.CLOSED_STATES


def _int(value) -> int:
    try:
        return 0 if data.missing(value) else int(value)
    except (TypeError, ValueError):
        return 0


def read_night(wh, run_id: str | None = None) -> Night:
    """The night of `run_id` (default: the newest run): the entries it shows one by one (new,
    resolved, closed on arrival) with their state as of it and as of the previous night, and
    the entries carried over, counted. Neither the entries carried over nor those closed
    before the previous night are read out: years of nights leave many of both."""
    runs = data.run_ids(wh)
    if not runs:
        empty = Tonight(None, None, "failed", [], [], [], [], [
            "No run is recorded in the warehouse: run the pipeline (deflect run)."], [])
        return Night(empty, None, data.quarantine(wh).iloc[0:0], data.load_runs(wh, ""))
    if run_id is None:
        run_id = runs[-1]
    elif run_id not in runs:
        raise ValueError(f"no run {run_id!r} in reporting.load_run")
    replay_runs = set(data.replays(wh)["run_id"].astype(str))
    previous = max((r for r in runs if r < run_id and r not in replay_runs), default=None)

    def marks_before(r: str | None) -> dt.datetime | None:
        # a mark belongs to the last run that started before it was made
        later = [x for x in runs if x > r] if r else []
        return run_started(later[0]) if later else None

    loads = data.load_runs(wh, run_id)
    until_then = marks_before(run_id)
    then = state_sql(run_id, until_then)
    before = state_sql(previous, marks_before(previous)) if previous is not None else None
    entries, carried = data.night_entries(wh, run_id, then, previous, before)
    entries["night"] = entries["run_id"].fillna("").astype(str)
    # the columns state_as_of reads, not whole rows
    records = entries[["night", "state", "state_run_id", "review_status",
                       "reviewed_at"]].to_dict(orient="records")
    entries["state_then"] = [state_as_of(e, run_id, until_then) for e in records]
    if previous is None:
        entries["state_before"] = None
    else:
        until_before = marks_before(previous)
        entries["state_before"] = [
            state_as_of(e, previous, until_before) if e["night"] <= previous else None
            for e in records
        ]
    failed = sorted(loads[loads["status"] != "ok"]["source"].astype(str)) if len(loads) else []
    entries = entries.reset_index(drop=True)
    summary = _summarise(entries, carried, loads, failed, run_id, pending_files(wh, run_id))
    return Night(summary, previous, entries, loads, failed, run_id in replay_runs, carried)


def _lists(entries: pd.DataFrame, run_id: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Masks of the new, carried and resolved entries (module docstring)."""
    closed_then = entries["state_then"].map(is_closed)
    closed_before = entries["state_before"].map(lambda s: s is not None and is_closed(s))
    this_run = entries["night"] == run_id
    new = this_run & ~closed_then
    carried = ~this_run & ~closed_then
    resolved = ~this_run & closed_then & ~closed_before
    return new, carried, resolved


def pending_files(wh, run_id: str) -> list[PendingFile]:
    """Files listed but never fetched (no completion marker yet, or changed while fetching),
    as the file ledger holds them as of the run; age in days from the file's modification time
    on the server to the run's start."""
    ledger = wh.read_frame(
        "select source, remote_name, mtime, run_id from quality.file_ledger "
        "where status = 'pending' and run_id <= ? order by source, remote_name",
        [run_id],
    )
    started = run_started(run_id) or dt.datetime.now(dt.UTC)
    out = []
    for r in ledger.to_dict(orient="records"):
        mtime = _int(r["mtime"])
        age = (started - dt.datetime.fromtimestamp(mtime, dt.UTC)).days if mtime else 0
        out.append(PendingFile(
            source=str(r["source"]), file_name=str(r["remote_name"]), age_days=max(age, 0),
            reason="listed without its completion marker (.done or .sha256), or changed "
                   "while it was fetched: taken again when complete"))
    return sorted(out, key=lambda p: (-p.age_days, p.source, p.file_name))


def _summarise(e: pd.DataFrame, carried: pd.DataFrame, loads: pd.DataFrame,
               failed: list[str], run_id: str, pending: list[PendingFile]) -> Tonight:
    new, _, resolved = _lists(e, run_id)  # the entries carried over are counted in `carried`
    new_open = new & (e["state_then"] == "open")
    carried_open = carried[carried["state_then"] == "open"]
    stale = [p for p in pending if p.age_days >= PENDING_DAYS]
    if failed or loads.empty:
        verdict = "failed"
    elif new_open.any() or len(carried_open) or stale:
        verdict = "needs attention"
    else:
        verdict = "OK"

    sources = sorted(set(loads["source"].astype(str)) | set(e[new | resolved]["source"])
                     | set(carried["source"].astype(str)))
    carried_by_source = carried.groupby("source")["entries"].sum().to_dict() \
        if len(carried) else {}
    by_source = []
    for s in sources:
        row = loads[loads["source"] == s]
        mine = e["source"] == s
        by_source.append(SourceTonight(
            source=s,
            files_loaded=sum(_int(v) for v in row["files_loaded"]),
            records_loaded=sum(_int(v) for v in row["records_loaded"]),
            records_quarantined=int((mine & (e["night"] == run_id)
                                     & (e["level"] == "record")).sum()),
            new=int((mine & new).sum()),
            carried=int(carried_by_source.get(s, 0)),
            resolved=int((mine & resolved).sum()),
        ))
    return Tonight(
        run_id=run_id,
        as_of=_as_of(loads),
        verdict=verdict,
        new=_ids(e[new]),
        carried=sorted(i for ids in carried["ids"] for i in ids),
        resolved=_ids(e[resolved]),
        pending=pending,
        todo=_todo(failed, e[new_open], carried_open, stale, run_id),
        sources=by_source,
    )


def _as_of(loads: pd.DataFrame) -> dt.date | None:
    values = [v for v in loads["as_of"] if not data.missing(v)]
    if not values:
        return None
    value = max(pd.Timestamp(v) for v in values)
    return value.date()


def _ids(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["quarantine_id"].astype(str))


def _codes(frame: pd.DataFrame) -> str:
    counts = Counter(c.strip() for codes in frame["codes"].dropna() for c in str(codes).split(",")
                     if c.strip())
    return ", ".join(f"{c} ×{n}" if n > 1 else c for c, n in sorted(counts.items()))


def _todo(failed: list[str], new_open: pd.DataFrame, carried_open: pd.DataFrame,
          stale: list[PendingFile], run_id: str) -> list[str]:
    """At most three things to do, most urgent first: a failed source (data not processed),
    new files lost whole, new records, files that never complete, entries nobody looked at
    (`carried_open`: counted, as data.night_entries counts them)."""
    todo = []
    if failed:
        todo.append(f"Find out why {', '.join(failed)} failed (deflect summary; "
                    f"docs/operations.md) and run again: its files were not all processed.")
    files = new_open[new_open["level"] == "file"]
    if len(files):
        todo.append(f"{len(files)} file(s) quarantined whole tonight ({_codes(files)}): "
                    f"ask {_sources(files)} to send them again (deflect quarantine list "
                    f"--status open --run-id {run_id}).")
    recs = new_open[new_open["level"] != "file"]
    if len(recs):
        busiest = recs["source"].value_counts().index[0]
        todo.append(f"{len(recs)} record(s) quarantined tonight ({_codes(recs)}); most from "
                    f"{busiest}: deflect quarantine export --unit {busiest} --status open "
                    f"--output {busiest}.csv, and send it.")
    if stale:
        oldest = stale[0]
        todo.append(f"{len(stale)} file(s) pending for {PENDING_DAYS} days or more (oldest: "
                    f"{oldest.file_name} of {oldest.source}, {oldest.age_days} days): ask the "
                    f"source why the transfer never completes.")
    waiting = int(carried_open["entries"].sum()) if len(carried_open) else 0
    if waiting:
        oldest = min((str(v) for v in carried_open["oldest"] if not data.missing(v)), default="")
        todo.append(f"{waiting} entr{'y' if waiting == 1 else 'ies'} carried "
                    f"over and never looked at (oldest from run {oldest}): ask the source, then "
                    f"deflect quarantine mark ID reviewed.")
    return todo[:TODO_LIMIT]


def _sources(frame: pd.DataFrame, shown: int = 3) -> str:
    """The sources of some entries, the most frequent first; past `shown`, how many more."""
    names = frame["source"].astype(str).value_counts().index.tolist()
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def tonight(wh, run_id: str | None = None) -> Tonight:
    """The night of `run_id` (default: the newest run): verdict, entries new, carried over and
    resolved against the previous night, pending files, what to do first, per source.
    `wh` is an open warehouse (warehouse.backend.Warehouse)."""
    return read_night(wh, run_id).tonight
