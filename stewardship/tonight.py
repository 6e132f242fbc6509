"""The night at a glance: a verdict, entries new / carried over / resolved against the previous
night, files still pending and their age, per-source figures, and what to do first.

Reads only the `reporting` and `quality` names through `stewardship.data`; the workbench and the
report show the same figures from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from stewardship import data

# States of an entry that still wait for the source (a reviewed entry was asked about, not fixed).
WAITING = ("open", "reviewed")
# States a load gave: the data fixed the entry.
FIXED = ("resolved", "superseded", "replayed")


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
    records_quarantined: int
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
    pending: list[PendingFile]
    todo: list[str]
    sources: list[SourceTonight]


def _int(value) -> int:
    return 0 if data.missing(value) else int(value)


def _day(value) -> dt.date | None:
    if data.missing(value) or value in ("",):
        return None
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def nights(wh) -> list[str]:
    """Runs that are nights, not replays, oldest first."""
    replayed = set(data.replays(wh)["run_id"].astype(str))
    return [r for r in data.run_ids(wh) if r not in replayed]


def _pending(wh, as_of: dt.date | None) -> list[PendingFile]:
    """Files whose latest ledger row says pending: listed, their completion marker missing."""
    ledger = wh.read_frame(
        "select source, remote_name, status, handled_at from quality.file_ledger"
    )
    out = []
    if ledger.empty:
        return out
    ledger["handled"] = [_day(v) for v in ledger["handled_at"]]
    for (source, name), rows in ledger.groupby(["source", "remote_name"], sort=True):
        rows = rows.sort_values("handled_at", kind="stable")
        if str(rows["status"].iloc[-1]) != "pending":
            continue
        first = min((d for d in rows[rows["status"] == "pending"]["handled"] if d), default=None)
        age = (as_of - first).days if as_of and first else 0
        out.append(PendingFile(str(source), str(name), max(age, 0),
                               "listed without its completion marker: not fetched yet"))
    return sorted(out, key=lambda p: (-p.age_days, p.source, p.file_name))


def tonight(wh, run_id: str | None = None) -> Tonight:
    """The night `run_id` (default: the latest night that was not a replay)."""
    runs = nights(wh)
    if run_id is None:
        run_id = runs[-1] if runs else None
    if run_id is None:
        return Tonight(None, None, "needs attention", [], [], [], [], ["no night has run yet"], [])
    previous = max((r for r in runs if r < run_id), default=None)
    as_of = data.as_of_of(wh, run_id)
    entries = data.quarantine(wh)
    entries = entries[entries["run_id"].astype(str) <= run_id]
    state_run = [None if data.missing(v) else str(v) for v in entries["state_run_id"]]
    waiting = entries["state"].isin(WAITING)
    new_mask = waiting & (entries["run_id"] == run_id)
    carried_mask = waiting & (entries["run_id"] < run_id)
    resolved_mask = entries["state"].isin(FIXED) & pd.Series(
        [r is not None and r <= run_id and (previous is None or r > previous) for r in state_run],
        index=entries.index, dtype=bool)
    ids = entries["quarantine_id"].astype(str)
    new, carried, resolved = (ids[m].tolist() for m in (new_mask, carried_mask, resolved_mask))

    runs_frame = data.load_runs(wh, run_id)
    sources = []
    for r in runs_frame.to_dict(orient="records"):
        of = entries["source"] == r["source"]
        sources.append(SourceTonight(
            source=str(r["source"]), files_loaded=_int(r["files_loaded"]),
            records_loaded=_int(r["records_loaded"]),
            records_quarantined=_int(r["records_quarantined"]),
            new=int((new_mask & of).sum()), carried=int((carried_mask & of).sum()),
            resolved=int((resolved_mask & of).sum())))
    pending = _pending(wh, as_of)
    failed = sorted(str(s) for s in runs_frame[runs_frame["status"] != "ok"]["source"])
    if failed:
        verdict = "failed"
    elif new or carried or pending:
        verdict = "needs attention"
    else:
        verdict = "OK"
    todo = []
    if failed:
        todo.append(f"sources failed: {', '.join(failed)} (see the run's logs in Airflow)")
    if new:
        todo.append(f"{len(new)} new entries: read each, mark it or ask the unit")
    if pending:
        oldest = pending[0]
        todo.append(f"{len(pending)} pending files, the oldest {oldest.file_name} "
                    f"({oldest.age_days} days): ask {oldest.source} for its completion marker")
    if carried and len(todo) < 3:
        todo.append(f"{len(carried)} entries carried over: chase the units that owe a fix")
    return Tonight(run_id, as_of, verdict, new, carried, resolved, pending, todo[:3], sources)
