"""What each page shows, gathered from `stewardship` (entry states, marks, masking, the rule
catalogue, Tonight, contacts): no query of its own beyond the lineage drill-down, no masking of
its own. Plain dictionaries and dataclasses for the templates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from adapters.registry import field_classes
from deflect.core import rules as rules_catalog
from stewardship import data, quarantine
from stewardship.contacts import Contact, load_contacts
from stewardship.tonight import Tonight, tonight

# The columns of quality.lineage a page may show: identities and where a row came from, never a
# value of the record (whatever columns the view grows, a person's data is not among these).
LINEAGE_COLUMN = re.compile(r"(^|_)(id|ids|source|kind|file|file_name|line|version|sha256|run|"
                            r"role|side|system|level|code)$")
SORTS = ("age", "unit", "code", "status", "file", "run")
TONIGHT_SETS = ("new", "carried", "resolved")


@dataclass(frozen=True)
class QueueFilter:
    unit: str | None = None
    code: str | None = None
    status: str | None = None
    min_age: int | None = None
    file: str | None = None
    source: str | None = None
    sort: str = "age"
    tonight: str | None = None  # one of TONIGHT_SETS: the entries behind a count of Tonight
    run: str | None = None  # the night of `tonight` (default: the latest)

    def query(self, **changes) -> dict:
        """The filter as query parameters (for links), empty ones left out."""
        values = {**self.__dict__, **changes}
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class Queue:
    rows: list[dict]
    units: list[str]
    codes: list[str]
    filters: QueueFilter
    total: int
    notes: list[str] = field(default_factory=list)


def _none(value):
    return None if data.missing(value) else value


def run_day(run_id: str) -> dt.date | None:
    """The UTC day a run started (run ids start with `YYYYmmddTHHMMSSZ`)."""
    try:
        return dt.datetime.strptime(str(run_id)[:16], "%Y%m%dT%H%M%SZ").date()
    except ValueError:
        return None


def age_days(run_id: str, today: dt.date) -> int | None:
    day = run_day(run_id)
    return (today - day).days if day else None


def contacts(config) -> dict[str, Contact]:
    """The units' contacts from the file the configuration names (`contacts_file`), if any."""
    path = getattr(config, "contacts_file", None)
    return load_contacts(path) if path else {}


def tonight_of(config, run_id: str | None = None) -> Tonight:
    with data.open_warehouse(config) as wh:
        return tonight(wh, run_id)


def flags_of(config, run_id: str | None, shown: int = 12) -> list[dict]:
    """The night's deflection findings (W-flags) by code, with the ids of the deflections behind
    them (the first `shown`), each a link to its lineage. Ids only, no personal data."""
    if run_id is None:
        return []
    with data.open_warehouse(config) as wh:
        f = data.findings(wh, run_id=run_id, levels=("deflection",))
    out = []
    for code, rows in f.groupby("code", sort=True):
        ids = sorted({str(x) for x in rows["deflection_id"] if not data.missing(x)})
        out.append({"code": code, "rule": rules_catalog.message(code), "count": len(ids),
                    "ids": ids[:shown]})
    return out


def _codes(value) -> list[str]:
    return [c.strip() for c in str(_none(value) or "").split(",") if c.strip()]


def queue(config, f: QueueFilter, today: dt.date | None = None) -> Queue:
    """Entries of every run, filtered and sorted as asked."""
    today = today or dt.datetime.now(dt.UTC).date()
    entries = quarantine.list_entries(config, status=f.status, source=f.source)
    notes = []
    if f.tonight in TONIGHT_SETS:
        night = tonight_of(config, f.run)
        wanted = set(getattr(night, f.tonight))
        entries = entries[entries["quarantine_id"].astype(str).isin(wanted)]
        notes.append(f"{f.tonight} entries of the night {night.run_id}")
    rows = []
    for r in entries.to_dict(orient="records"):
        r = {k: _none(v) for k, v in r.items()}
        r["unit"] = quarantine.unit_of(config, r["source"])
        r["code_list"] = _codes(r["codes"])
        r["age_days"] = age_days(r["run_id"], today)
        rows.append(r)
    units = sorted({r["unit"] for r in rows})
    codes = sorted({c for r in rows for c in r["code_list"]})
    total = len(rows)
    if f.unit:
        wanted_unit = f.unit.strip().upper()
        rows = [r for r in rows if r["unit"].upper() == wanted_unit or r["source"] == f.unit]
    if f.code:
        rows = [r for r in rows if f.code.strip().upper() in r["code_list"]]
    if f.min_age is not None:
        rows = [r for r in rows if (r["age_days"] or 0) >= f.min_age]
    if f.file:
        rows = [r for r in rows if f.file.strip().lower() in str(r["file_name"]).lower()]
    key = {
        "age": lambda r: (-(r["age_days"] or 0), r["quarantine_id"]),
        "unit": lambda r: (r["unit"], r["run_id"], r["quarantine_id"]),
        "code": lambda r: (r["code_list"][:1], r["quarantine_id"]),
        "status": lambda r: (r["state"], r["quarantine_id"]),
        "file": lambda r: (str(r["file_name"]), r["line"] or 0, r["quarantine_id"]),
        "run": lambda r: (r["run_id"], r["quarantine_id"]),
    }[f.sort if f.sort in SORTS else "age"]
    return Queue(sorted(rows, key=key), units, codes, f, total, notes)


def entry(config, quarantine_id: str, context: int = 6) -> dict:
    """An entry's page: `quarantine.show_entry` (masked findings and excerpts, marks, ledger)
    with each code's meaning and action, its replays and its unit's contact."""
    detail = quarantine.show_entry(config, quarantine_id, context=context, fields=field_classes())
    en = detail["entry"]
    with data.open_warehouse(config) as wh:
        replays = data.replays(wh)
    mine = replays[replays["entry_id"].astype(str) == en["quarantine_id"]]
    detail["replays"] = [{k: _none(v) for k, v in r.items()}
                         for r in mine.to_dict(orient="records")]
    detail["rules"] = [rules_catalog.rule(c) for c in _codes(en["codes"])
                       if rules_catalog.rule(c) is not None]
    detail["unit"] = quarantine.unit_of(config, en["source"])
    detail["contact"] = contacts(config).get(detail["unit"].upper())
    detail["age_days"] = age_days(en["run_id"], dt.datetime.now(dt.UTC).date())
    return detail


def lineage(config, deflection_id: str) -> dict:
    """A deflection's findings (its W-flags, with codes) and, when the warehouse has
    `quality.lineage`, the source rows behind it. Ids only, no personal data."""
    with data.open_warehouse(config) as wh:
        findings = data.findings(wh)
        findings = findings[findings["deflection_id"].astype(str) == deflection_id]
        try:
            rows = wh.read_frame("select * from quality.lineage where deflection_id = ?",
                                 [deflection_id])
        except Exception:  # noqa: BLE001 - the view is optional (a later migration adds it)
            rows = None
    shown = None
    if rows is not None:
        keep = [c for c in rows.columns if LINEAGE_COLUMN.search(c)]
        shown = {"columns": keep,
                 "rows": [[_none(v) for v in r] for r in rows[keep].itertuples(index=False)]}
    return {
        "deflection_id": deflection_id,
        "findings": [{"code": r["code"], "rule": rules_catalog.message(r["code"]),
                      "run_id": r["run_id"], "source": r["source"],
                      "file_name": _none(r["file_name"]), "record_id": _none(r["record_id"])}
                     for r in findings.to_dict(orient="records")],
        "lineage": shown,
    }

