"""Vintages and revisions (publication.md §3): build a period's tables from the warehouse as of a
date, write them once, and explain what changed since the previous vintage of the same period.

A vintage is only ever inserted: its rows are never updated or deleted (PostgreSQL also refuses
it, migration 0017). The revision of a cell lists the deflections that entered or left it, each
with one cause, decided in this order:
- the same deflection in both vintages: `attribution` when its approving unit changed,
  `followup` when its engagement changed or the cell counts engagement at 30 days (the 30 days
  elapsing is follow-up too), else `correction` (a new version of a record);
- a deflection in one vintage only: `relink` when one of its member records belongs to a
  deflection of the other vintage (§2 links changed, so the id changed); entering, `late_report`
  when every member record was first loaded after the earlier vintage, else `correction`;
  leaving, `void` when a member record's current version is withdrawn, else `correction`.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from publication.model import ALL, PublishedTable, VintageMeta
from publication.tables import COUNTS_TABLE, MEASURES_TABLE, Vintage, build_vintage
from transforms import statutory
from warehouse.backend import Warehouse

CAUSES = ("late_report", "correction", "void", "relink", "attribution", "followup")
CELL_COLUMNS = ["vintage_id", "table_name", "cell_key", "measure", "origin", "approving_unit_code",
                "referral_quarter", "dimension", "category", "value", "suppressed"]
FOLLOWUP_MEASURES = ("matured_30", "engaged_30")


@dataclass
class Published:
    meta: VintageMeta
    tables: list[PublishedTable]
    vintage: Vintage
    previous_vintage_id: str | None
    revisions: int
    reused: bool = False  # the same figures as of the same date were already published


def quarters_of(period: str) -> tuple[str, ...]:
    """'2026-Q3' -> ('2026-Q3',); '2026' -> its four quarters."""
    if len(period) == 4 and period.isdigit():
        return tuple(f"{period}-Q{q}" for q in range(1, 5))
    year, q = period.split("-Q")
    if not (len(year) == 4 and year.isdigit() and q in ("1", "2", "3", "4")):
        raise ValueError(f"a period is YYYY-Qn or YYYY, not {period!r}")
    return (period,)


def per_deflection(wh: Warehouse, as_of: dt.date) -> pd.DataFrame:
    """The §1 attributes of every counted deflection as of `as_of`, with its member records."""
    deflections = wh.read_frame(
        "SELECT deflection_id, person_key, referral_date, referral_quarter, pathway, "
        "approving_unit_code, originating_agency_type, sex, race, ethnicity, age_at_referral, "
        "encounter_date, tracs_record_id, tracs_seq, meg_record_id, meg_subject_id "
        "FROM marts.fct_deflection ORDER BY deflection_id")
    evaluations = wh.read_frame(
        "SELECT deflection_id, evaluation_date, result FROM marts.fct_evaluation")
    rows = statutory.per_deflection(deflections, evaluations, as_of)
    members = deflections.set_index("deflection_id")
    rows["tracs_member"] = [
        None if pd.isna(members.at[d, "tracs_record_id"]) else
        f"TRACS:{members.at[d, 'tracs_record_id']}:{int(members.at[d, 'tracs_seq'])}"
        for d in rows["deflection_id"]]
    rows["meg_member"] = [
        None if pd.isna(members.at[d, "meg_record_id"]) else
        f"MEG:{members.at[d, 'meg_record_id']}:{members.at[d, 'meg_subject_id']}"
        for d in rows["deflection_id"]]
    return rows


def latest_vintage(wh: Warehouse, period: str) -> tuple | None:
    """(vintage_id, published_at, load_seq, as_of) of the period's latest vintage."""
    return wh.query_one(
        "SELECT vintage_id, published_at, load_seq, as_of FROM meta.publication WHERE period = ? "
        "ORDER BY published_at DESC, vintage_id DESC LIMIT 1", [period])


def _cell_set(frame: pd.DataFrame) -> set[tuple]:
    return {(t, k, m, _num(v), bool(s)) for t, k, m, v, s in zip(
        frame["table_name"], frame["cell_key"], frame["measure"], frame["value"],
        frame["suppressed"])}


def _vintage_id(wh: Warehouse, period: str, as_of: dt.date) -> str:
    base = f"{period}.{as_of.isoformat()}"
    taken = {r[0] for r in wh.query(
        "SELECT vintage_id FROM meta.publication WHERE vintage_id = ? OR vintage_id LIKE ?",
        [base, base + ".%"])}
    if base not in taken:
        return base
    n = 2
    while f"{base}.{n}" in taken:
        n += 1
    return f"{base}.{n}"


def publish(wh: Warehouse, *, period: str, as_of: dt.date, run_id: str | None,
            protection_width: int, now: dt.datetime | None = None) -> Published:
    """Build, audit and write one vintage of `period` as of `as_of`. Raises
    publication.tables.ProtectionError (nothing written) when the audit fails."""
    quarters = quarters_of(period)
    rows = per_deflection(wh, as_of)
    vintage = build_vintage(rows, quarters, protection_width)  # fails before any write
    period_rows = rows[rows["referral_quarter"].isin(quarters)]
    published_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    with wh.transaction():
        previous = latest_vintage(wh, period)
        if previous is not None and _day(previous[3]) == as_of and _cell_set(
                _cells(wh, previous[0])) == _cell_set(vintage.cells):
            # the same figures as of the same date: that vintage stands (a re-run, a retry)
            return _existing(wh, previous[0], vintage)
        vintage_id = _vintage_id(wh, period, as_of)
        load_seq = wh.scalar("SELECT max(load_seq) FROM meta.load_audit")
        meta = VintageMeta(vintage_id=vintage_id, period=period, as_of=as_of,
                           published_at=published_at.replace(tzinfo=dt.UTC),
                           run_id=run_id or "", protection_width=protection_width)
        wh.execute(
            "INSERT INTO meta.publication (vintage_id, period, as_of, published_at, run_id, "
            "protection_width, load_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [vintage_id, period, as_of, published_at, run_id, protection_width, load_seq])
        cells = vintage.cells.assign(vintage_id=vintage_id)
        wh.insert_frame("meta.published_cell", cells, CELL_COLUMNS)
        wh.insert_frame("meta.published_table", _loss_frame(vintage_id, vintage), [
            "vintage_id", "table_name", "title", "cells", "suppressed_cells", "nonzero_cells",
            "information_loss"])
        wh.insert_frame("meta.published_cell_member", vintage.members.assign(vintage_id=vintage_id),
                        ["vintage_id", "table_name", "cell_key", "measure", "deflection_id"])
        snapshot = pd.DataFrame({
            "vintage_id": vintage_id,
            "deflection_id": period_rows["deflection_id"],
            "tracs_member": period_rows["tracs_member"],
            "meg_member": period_rows["meg_member"],
            "approving_unit_code": period_rows["approving_unit_code"],
            "engagement_date": period_rows["engagement_date"],
        }, dtype=object)
        wh.insert_frame("meta.published_deflection", snapshot, list(snapshot.columns))
        revisions = 0
        if previous is not None:
            revisions = _write_revision(wh, previous, vintage_id)
    return Published(meta, vintage.tables, vintage, previous[0] if previous else None, revisions)


def _day(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _existing(wh: Warehouse, vintage_id: str, vintage: Vintage) -> Published:
    vid, period, as_of, published_at, run_id, width = wh.query_one(
        "SELECT vintage_id, period, as_of, published_at, run_id, protection_width "
        "FROM meta.publication WHERE vintage_id = ?", [vintage_id])
    at = published_at if isinstance(published_at, dt.datetime) else dt.datetime.fromisoformat(
        str(published_at))
    meta = VintageMeta(vintage_id=vid, period=period, as_of=_day(as_of),
                       published_at=at.replace(tzinfo=dt.UTC), run_id=run_id or "",
                       protection_width=width)
    return Published(meta, vintage.tables, vintage, None, 0, reused=True)


def _loss_frame(vintage_id: str, vintage: Vintage) -> pd.DataFrame:
    rows = []
    for t in vintage.tables:
        cells = vintage.cells[vintage.cells["table_name"] == t.name]
        rows.append({"vintage_id": vintage_id, "table_name": t.name, "title": t.title,
                     "cells": len(cells), "suppressed_cells": int(cells["suppressed"].sum()),
                     "nonzero_cells": int(sum(1 for v in cells["value"] if v not in (None, 0)
                                              and not pd.isna(v))),
                     "information_loss": t.information_loss})
    return pd.DataFrame(rows, dtype=object)


def cell_members(wh: Warehouse, table_name: str, unit: str, quarter: str,
                 category: str | None = None, *, origin: str = ALL, measure: str | None = None,
                 vintage_id: str | None = None) -> list[str]:
    """The deflections behind one published cell of a vintage (default: the latest of the
    quarter), `ALL` cells included (the union of their finest cells). `category` is the value of
    a category table's own dimension (`ALL` when omitted); `origin` is the III.E.3 table's;
    `measure` defaults to the table's count (`encounters` for the statutory measures)."""
    if vintage_id is None:
        vintage_id = wh.scalar(
            "SELECT vintage_id FROM meta.latest_quarter_vintage WHERE period = ?", [quarter])
        if vintage_id is None:
            raise LookupError(f"no vintage of {quarter} has been published")
    parts = [origin] if table_name == COUNTS_TABLE else []
    parts += [unit, quarter]
    if table_name not in (COUNTS_TABLE, MEASURES_TABLE):
        parts.append(category if category is not None else ALL)
    if measure is None:
        measure = "encounters" if table_name == MEASURES_TABLE else "deflections"
    known = wh.scalar("SELECT count(*) FROM meta.published_cell WHERE vintage_id = ? "
                      "AND table_name = ? AND cell_key = ? AND measure = ?",
                      [vintage_id, table_name, "/".join(parts), measure])
    if not known:
        raise LookupError(f"{table_name} has no cell {'/'.join(parts)} ({measure}) in "
                          f"vintage {vintage_id}")
    return sorted(_cell_members(_members(wh, vintage_id), table_name, measure, "/".join(parts)))


# --- revisions -----------------------------------------------------------------------------------

def _cells(wh: Warehouse, vintage_id: str) -> pd.DataFrame:
    return wh.read_frame(
        "SELECT " + ", ".join(CELL_COLUMNS[1:]) + " FROM meta.published_cell WHERE vintage_id = ?",
        [vintage_id])


def _members(wh: Warehouse, vintage_id: str) -> dict[tuple, dict[tuple, set]]:
    """(table, measure) -> finest cell key parts -> deflection ids."""
    out: dict[tuple, dict[tuple, set]] = defaultdict(lambda: defaultdict(set))
    for table, key, measure, did in wh.query(
            "SELECT table_name, cell_key, measure, deflection_id FROM meta.published_cell_member "
            "WHERE vintage_id = ?", [vintage_id]):
        out[(table, measure)][tuple(key.split("/"))].add(did)
    return out


def _member_measure(table: str, measure: str) -> str:
    # the statutory table's participants are the encounters' deflections; its rate and median
    # are those of the engaged and matured ones
    if table != MEASURES_TABLE:
        return measure
    return {"participants": "encounters", "engagement_rate_30": "engaged_30",
            "median_days_to_engagement": "encounters"}.get(measure, measure)


def _cell_members(members, table: str, measure: str, key: str) -> set:
    parts = tuple(key.split("/"))
    finest = members.get((table, _member_measure(table, measure)), {})
    if ALL not in parts:
        return set(finest.get(parts, set()))
    out: set = set()
    for k, ids in finest.items():
        if all(p == ALL or p == q for p, q in zip(parts, k)):
            out |= ids
    return out


def _snapshot(wh: Warehouse, vintage_id: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in wh.query(
        "SELECT deflection_id, tracs_member, meg_member, approving_unit_code, engagement_date "
        "FROM meta.published_deflection WHERE vintage_id = ?", [vintage_id])}


def _first_load(wh: Warehouse, member: str) -> int | None:
    kind, rest = member.split(":", 1)
    record = rest.rsplit(":", 1)[0]
    table = "stg_tracs__field_report" if kind == "TRACS" else "stg_meg__case"
    return wh.scalar(f"SELECT min(load_seq) FROM staging.{table} WHERE record_id = ?", [record])


def _withdrawn(wh: Warehouse, member: str) -> bool:
    kind, rest = member.split(":", 1)
    record = rest.rsplit(":", 1)[0]
    if kind == "TRACS":
        status = wh.scalar(
            "SELECT status FROM staging.stg_tracs__field_report WHERE record_id = ? "
            "ORDER BY form_version DESC, load_seq LIMIT 1", [record])
        return status == "Voided"
    status = wh.scalar(
        "SELECT status FROM staging.stg_meg__case WHERE record_id = ? "
        "ORDER BY last_modified DESC, load_seq LIMIT 1", [record])
    return status == "VOID"


def _write_revision(wh: Warehouse, previous: tuple, vintage_id: str) -> int:
    """Compare with the previous vintage of the period; the revision rows written."""
    prev_id, _, prev_load_seq, _ = previous
    old, new = _cells(wh, prev_id), _cells(wh, vintage_id)
    key = ["table_name", "cell_key", "measure"]
    both = old.merge(new, on=key, how="outer", suffixes=("_old", "_new"))
    old_m, new_m = _members(wh, prev_id), _members(wh, vintage_id)
    old_s, new_s = _snapshot(wh, prev_id), _snapshot(wh, vintage_id)
    old_by_member = {m: d for d, s in old_s.items() for m in s[:2] if m}
    new_by_member = {m: d for d, s in new_s.items() for m in s[:2] if m}

    def cause(did: str, change: str, table: str, measure: str) -> str:
        if did in old_s and did in new_s:
            if old_s[did][2] != new_s[did][2]:
                return "attribution"
            if (old_s[did][3] != new_s[did][3] or measure in FOLLOWUP_MEASURES
                    or _member_measure(table, measure) in FOLLOWUP_MEASURES
                    or table == "deflections_by_engagement_bucket"):
                return "followup"
            return "correction"
        snap, other = (new_s, old_by_member) if change == "entered" else (old_s, new_by_member)
        mine = [m for m in snap.get(did, (None, None))[:2] if m]
        if any(m in other for m in mine):
            return "relink"
        if change == "entered":
            firsts = [_first_load(wh, m) for m in mine]
            if mine and prev_load_seq is not None and all(
                    f is not None and f > prev_load_seq for f in firsts):
                return "late_report"
            return "correction"
        return "void" if any(_withdrawn(wh, m) for m in mine) else "correction"

    revisions, member_rows = [], []
    for r in both.itertuples(index=False):
        v_old, v_new = _num(r.value_old), _num(r.value_new)
        if v_old == v_new:
            continue
        s_old = bool(r.suppressed_old) if r.suppressed_old is not None and not pd.isna(
            r.suppressed_old) else True
        s_new = bool(r.suppressed_new) if r.suppressed_new is not None and not pd.isna(
            r.suppressed_new) else True
        a = _cell_members(old_m, r.table_name, r.measure, r.cell_key)
        b = _cell_members(new_m, r.table_name, r.measure, r.cell_key)
        counts = dict.fromkeys(CAUSES, 0)
        for change, ids in (("entered", b - a), ("left", a - b)):
            for did in sorted(ids):
                c = cause(did, change, r.table_name, r.measure)
                counts[c] += 1
                member_rows.append((vintage_id, prev_id, r.table_name, r.cell_key, r.measure, did,
                                    change, c))
        if (None if s_old else v_old) == (None if s_new else v_new):
            continue  # the published values are equal (both suppressed): nothing to show
        dims = {c: _first(getattr(r, c + "_new"), getattr(r, c + "_old"))
                for c in ("origin", "approving_unit_code", "referral_quarter", "dimension",
                          "category")}
        shown_counts = counts if not (s_old or s_new) else dict.fromkeys(CAUSES)
        revisions.append({"vintage_id": vintage_id, "previous_vintage_id": prev_id,
                          "table_name": r.table_name, "cell_key": r.cell_key,
                          "measure": r.measure, **dims,
                          "old_value": None if s_old else v_old,
                          "new_value": None if s_new else v_new, **shown_counts})
    if revisions:
        frame = pd.DataFrame(revisions, dtype=object)
        wh.insert_frame("meta.revision", frame, list(frame.columns))
    if member_rows:
        frame = pd.DataFrame(member_rows, columns=[
            "vintage_id", "previous_vintage_id", "table_name", "cell_key", "measure",
            "deflection_id", "change", "cause"], dtype=object)
        wh.insert_frame("meta.revision_member", frame, list(frame.columns))
    return len(revisions)


def _num(v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return float(v)


def _first(a, b):
    return b if a is None or (isinstance(a, float) and pd.isna(a)) else a
