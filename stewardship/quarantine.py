"""Steward commands' logic: quarantine entries (list, show, mark), findings export.

An entry's state is derived by the warehouse, in one place (`quality.quarantine_state`, migration
0014, read through `quality.quarantine`); the report reads the same column. A steward's marks are
an audit trail in `quality.quarantine_review`: every mark is a new row (who, when, status, note).
Nothing here prints personal data: excerpts and messages are masked.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import os
from pathlib import Path

import pandas as pd

from deflect.core import rules as rules_catalog
from deflect.core.fields import NOTHING_PUBLIC, FieldClasses
from stewardship import data
from stewardship.contacts import TRACS_UNIT, unit_of  # noqa: F401 - the unit of an entry
from stewardship.excerpts import entry_excerpts
from stewardship.masking import mask_message, quoted_value

STATUSES = data.STATES
EXPORT_COLUMNS = data.FINDING_COLUMNS + ("rule",)
ENTRY_EXPORT_COLUMNS = (
    "entry_id",
    "state",
    "run_id",
    "unit",
    "source",
    "file_name",
    "record_id",
    "record_version",
    "line",
    "codes",
    "code",
    "path",
    "value",
    "rule",
    "action",
    "message",
)
SHORT_ID = 12  # characters of an entry id shown in lists, as git shows commits


class StewardError(ValueError):
    """A steward command that cannot be done as asked (unknown entry, bad status, bad file)."""


def _none(value):
    return None if data.missing(value) else value


def state_by(entry: dict) -> str | None:
    """Who or what put the entry in its state: the run whose load did, or the steward's mark."""
    if entry.get("state") in ("resolved", "superseded", "replayed"):
        return f"load of run {_none(entry.get('state_run_id'))}"
    if entry.get("state") in ("reviewed", "dismissed"):
        return _none(entry.get("reviewed_by"))
    return None


def _with_by(entries: pd.DataFrame) -> pd.DataFrame:
    out = entries.copy()
    out["state_by"] = [state_by(r) for r in out.to_dict(orient="records")]
    # `status` is the name the steward commands have always shown the state under
    out["status"] = out["state"]
    return out


def _check_state(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise StewardError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")


def list_entries(
    config, status: str | None = None, source: str | None = None, run_id: str | None = None
) -> pd.DataFrame:
    """Quarantine entries with their state, oldest first; filters are optional."""
    _check_state(status)
    with data.open_warehouse(config) as wh:
        entries = data.quarantine(wh, run_id=run_id, source=source, state=status)
    return _with_by(entries)


def format_entries(entries: pd.DataFrame) -> str:
    """One aligned line per entry, ids shortened to SHORT_ID characters."""
    if entries.empty:
        return "no quarantine entries"
    rows = [("id", "state", "run", "source", "level", "codes", "what")]
    for r in entries.to_dict(orient="records"):
        what = r["file_name"] + (f" {r['record_id']}" if _none(r.get("record_id")) else "")
        rows.append(
            (
                str(r["quarantine_id"])[:SHORT_ID],
                str(r["state"]),
                str(r["run_id"]),
                str(r["source"]),
                str(r["level"]),
                str(_none(r["codes"]) or ""),
                what,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths)) + "  " + row[-1]
        for row in rows
    )


def resolve_id(wh, given: str) -> str:
    """The entry id a steward means: the id itself, or the one id starting with `given`."""
    given = (given or "").strip()
    if not given:
        raise StewardError("an entry id is needed")
    found = data.quarantine_ids_like(wh, given)
    if given in found:
        return given
    if not found:
        raise StewardError(f"no quarantine entry {given!r}")
    if len(found) > 1:
        shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        raise StewardError(f"entry id {given!r} is ambiguous: {shown}")
    return found[0]


def _entry(wh, quarantine_id: str) -> dict:
    found = data.quarantine(wh, quarantine_id=resolve_id(wh, quarantine_id))
    return {k: _none(v) for k, v in found.iloc[0].to_dict().items()}


def _finding_rows(f: pd.DataFrame, fields: FieldClasses) -> list[dict]:
    rows = []
    for r in f.to_dict(orient="records"):
        message = mask_message(_none(r["message"]), _none(r["path"]), fields)
        rows.append({
            "code": r["code"],
            "rule": rules_catalog.message(r["code"]),
            "line": _none(r["line"]),
            "column": _none(r["column"]),
            "path": _none(r["path"]),
            "value": quoted_value(message),
            "message": message,
        })
    return rows


def show_entry(config, quarantine_id: str, context: int = 3,
               fields: FieldClasses = NOTHING_PUBLIC) -> dict:
    """One entry: its findings (masked), masked excerpts of its raw XML, review trail, lineage.
    `fields`: which fields' values may be shown (adapters.registry.field_classes())."""
    with data.open_warehouse(config) as wh:
        entry = _entry(wh, quarantine_id)
        entry["state_by"] = state_by(entry)
        f = data.findings(
            wh, run_id=entry["run_id"], source=entry["source"], file_name=entry["file_name"]
        )
        reviews = data.reviews(wh, [entry["quarantine_id"]])
        try:
            ledger = data.file_ledger(wh, entry["source"], entry["file_name"])
        except Exception:  # noqa: BLE001 - lineage is extra; the entry shows without it
            ledger = pd.DataFrame()
    if entry["level"] == "record":
        f = f[f["record_id"] == entry["record_id"]]
    else:
        f = f[f["level"] == "file"]
    findings = _finding_rows(f, fields)
    raw = entry_excerpts(Path(config.landing_dir), entry, findings, fields, context=context,
                         limit=5)
    keep = [
        c
        for c in (
            "remote_name",
            "sha256",
            "status",
            "run_id",
            "landing_path",
            "duplicate_of",
            "handled_at",
        )
        if c in ledger.columns
    ]
    return {
        "entry": entry,
        "findings": findings,
        "raw_available": raw["raw"] != "missing",
        "raw_readable": raw["raw"] == "text",
        "excerpts": raw["excerpts"],
        "reviews": [{k: _none(v) for k, v in r.items()} for r in reviews.to_dict(orient="records")],
        "lineage": [
            {k: _none(v) for k, v in r.items()} for r in ledger[keep].to_dict(orient="records")
        ],
    }


def format_entry(detail: dict) -> str:
    en = detail["entry"]
    out = [
        f"quarantine entry {en['quarantine_id']} ({en['state']})",
        *([f"  {en['state']} by {en['state_by']}"] if en.get("state_by") else []),
        f"  run {en['run_id']}  source {en['source']}  level {en['level']}",
        f"  file {en['file_name']}"
        + (f"  record {en['record_id']}" if en.get("record_id") else "")
        + (f"  version {en['record_version']}" if en.get("record_version") else ""),
        f"  codes {en['codes']}",
        "",
        "findings:",
    ]
    for x in detail["findings"]:
        where = (
            f"line {x['line']}" + (f" col {x['column']}" if x["column"] else "")
            if x["line"]
            else "-"
        )
        out.append(f"  {x['code']} {where} {x['path'] or ''}")
        out.append(f"      {x['rule']}" + (f": {x['message']}" if x["message"] else ""))
        if x.get("value") is not None:
            out.append(f"      value: {x['value']}")
    for ex in detail["excerpts"]:
        out.append("")
        if ex["beyond"]:
            out.append(f"line {ex['line']} is past the end of the kept raw XML: no excerpt")
            continue
        out.append(f"line {ex['line']} of the file (personal data masked):")
        for row in ex["rows"]:
            out.append(f"{'>' if row['hit'] else ' '}{row['n']:>7} | {row['text']}")
    if not detail["raw_available"]:
        out += ["", "raw XML not found in the landing area"]
    elif not detail["raw_readable"]:
        out += ["", "the raw file is not readable text: no excerpt"]
    if detail["lineage"]:
        out += ["", "file ledger (lineage):"]
        for r in detail["lineage"]:
            out.append("  " + "  ".join(f"{k}={v}" for k, v in r.items() if v is not None))
    out += ["", "review trail:" if detail["reviews"] else "review trail: none"]
    for r in detail["reviews"]:
        out.append(
            f"  {r['reviewed_at']}  {r['reviewed_by']}  {r['status']}"
            + (f"  {r['note']}" if r.get("note") else "")
        )
    return "\n".join(out)


def default_reviewer() -> str:
    return os.environ.get("USER") or getpass.getuser()


def mark(
    config,
    quarantine_id: str,
    status: str,
    note: str | None = None,
    who: str | None = None,
    when: dt.datetime | None = None,
) -> dict:
    """Record a steward's mark on an entry: a new audit row, never an update. `resolved` is
    taken as `dismissed` (see data.REVIEW_ALIASES). The review table is the warehouse's: this
    only inserts, as the steward's database account may."""
    status = data.REVIEW_ALIASES.get(status, status)
    if status not in data.REVIEW_STATUSES:
        raise StewardError(
            f"status must be one of {', '.join(data.REVIEW_STATUSES)}, not {status!r}"
        )
    who = who or default_reviewer()
    when = when or dt.datetime.now(dt.UTC)
    with data.open_warehouse(config, read_only=False) as wh:
        quarantine_id = _entry(wh, quarantine_id)["quarantine_id"]
        data.add_review(wh, quarantine_id, status, note, who, when)
    return {
        "quarantine_id": quarantine_id,
        "status": status,
        "note": note,
        "reviewed_by": who,
        "reviewed_at": when.isoformat(),
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula (= + - @, tab, CR)
    gets a leading apostrophe, as OWASP advises for CSV injection. The findings export goes to
    producing agencies, who open it in a spreadsheet; file names and messages come from them."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_findings_csv(config, run_id: str | None, path: str | Path, source: str | None = None,
                        fields: FieldClasses = NOTHING_PUBLIC) -> int:
    """Write the findings of a run, or of every run (`run_id` None), optionally one source's,
    as CSV for the producing agency.

    Columns: those of `quality.finding`, then `rule` (the rule's message from the catalog).
    Messages are masked where they quote a personal value. Returns the number of rows written.
    """
    with data.open_warehouse(config) as wh:
        f = data.findings(wh, run_id=run_id, source=source)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_COLUMNS)
        for r in f.to_dict(orient="records"):
            row = {k: _none(r.get(k)) for k in data.FINDING_COLUMNS}
            row["message"] = mask_message(row["message"], row["path"], fields)
            row["rule"] = rules_catalog.message(row["code"])
            w.writerow([spreadsheet_safe(row[c]) for c in EXPORT_COLUMNS])
    return len(f)


def export_entries_csv(
    config,
    path: str | Path,
    unit: str | None = None,
    status: str | None = "open",
    source: str | None = None,
    fields: FieldClasses = NOTHING_PUBLIC,
) -> int:
    """Write the quarantine entries of every run (one unit's, in one state) as CSV for the
    producing agency: one row per finding of an entry (an entry without findings has one row),
    with the line in the delivered file, the XML path, the value that is wrong (masked when its
    field is personal, see `fields`), the rule's message and what to do about it. `unit` is a
    unit code (`ISP` for TraCS) or a source name; `status` None: every state. Every cell is
    spreadsheet-safe. Returns the rows written."""
    _check_state(status)
    with data.open_warehouse(config) as wh:
        entries = data.quarantine(wh, state=status, source=source)
        if unit is not None:
            wanted = unit.strip().upper()
            keep = [
                unit_of(config, s).upper() == wanted or s == unit for s in entries["source"]
            ]
            entries = entries[keep]
        # only the sources exported: quality.finding holds every run's findings
        f = pd.concat(
            [data.findings(wh, source=s, levels=("file", "record"))
             for s in sorted(set(entries["source"]))]
            or [pd.DataFrame(columns=list(data.FINDING_COLUMNS))],
            ignore_index=True,
        )
    rows = []
    for en in entries.to_dict(orient="records"):
        en = {k: _none(v) for k, v in en.items()}
        sel = (f["source"] == en["source"]) & (f["file_name"] == en["file_name"]) & (
            f["run_id"] == en["run_id"]
        )
        if en["level"] == "record":
            sel &= f["record_id"] == en["record_id"]
        else:
            sel &= f["level"] == "file"
        found = f[sel].to_dict(orient="records") or [{}]
        for r in found:
            code = _none(r.get("code"))
            rule = rules_catalog.rule(code) if code else None
            message = mask_message(_none(r.get("message")), _none(r.get("path")), fields)
            rows.append(
                {
                    "entry_id": en["quarantine_id"],
                    "state": en["state"],
                    "run_id": en["run_id"],
                    "unit": unit_of(config, en["source"]),
                    "source": en["source"],
                    "file_name": en["file_name"],
                    "record_id": en["record_id"],
                    "record_version": en["record_version"],
                    "line": _none(r.get("line")) if r else en["line"],
                    "codes": en["codes"],
                    "code": code,
                    "path": _none(r.get("path")),
                    "value": quoted_value(message),
                    "rule": rule.message if rule else None,
                    "action": rule.action if rule else None,
                    "message": message,
                }
            )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ENTRY_EXPORT_COLUMNS)
        for row in rows:
            w.writerow([spreadsheet_safe(_none(row[c])) for c in ENTRY_EXPORT_COLUMNS])
    return len(rows)
