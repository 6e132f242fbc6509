"""Steward commands' logic: quarantine entries (list, show, mark), findings export.

An entry's review state is kept as an audit trail in `quality.quarantine_review`: every mark is a
new row (who, when, status, note) and the latest row is the entry's state; an entry with no row
is `open`. Nothing here prints personal data: excerpts and messages are masked.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import os
from pathlib import Path

import pandas as pd

from deflect.core import rules as rules_catalog
from stewardship import data
from stewardship.masking import excerpt_lines, mask_message
from stewardship.report import _line_in_raw, masked_raw_lines, raw_file_for

STATUSES = ("open",) + data.REVIEW_STATUSES
EXPORT_COLUMNS = data.FINDING_COLUMNS + ("rule",)


class StewardError(ValueError):
    """A steward command that cannot be done as asked (unknown entry, bad status, bad file)."""


def _none(value):
    return None if data.missing(value) else value


def _with_status(entries: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """Add the entry's state: the latest steward mark; without one, `resolved` when the warehouse
    saw a later version of the record load (by that run), else `open`."""
    latest = {}
    for r in reviews.to_dict(orient="records"):
        latest[str(r["quarantine_id"])] = r
    out = entries.copy()
    status, by, at = [], [], []
    for r in out.to_dict(orient="records"):
        review = latest.get(str(r["quarantine_id"]))
        if review:
            status.append(review["status"])
            by.append(review["reviewed_by"])
            at.append(review["reviewed_at"])
        elif r.get("load_status") == "resolved":
            status.append("resolved")
            by.append(f"load of run {r.get('resolved_run_id')}")
            at.append(None)
        else:
            status.append("open")
            by.append(None)
            at.append(None)
    out["status"], out["reviewed_by"], out["reviewed_at"] = status, by, at
    return out


def list_entries(
    config, status: str | None = None, source: str | None = None, run_id: str | None = None
) -> pd.DataFrame:
    """Quarantine entries with their review state, oldest first; filters are optional."""
    if status is not None and status not in STATUSES:
        raise StewardError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    with data.open_warehouse(config) as wh:
        entries = data.quarantine(wh, run_id=run_id, source=source)
        reviews = data.reviews(wh, entries["quarantine_id"].tolist())
    out = _with_status(entries, reviews)
    if status:
        out = out[out["status"] == status]
    return out.reset_index(drop=True)


def format_entries(entries: pd.DataFrame) -> str:
    if entries.empty:
        return "no quarantine entries"
    lines = [f"{'id':<14} {'status':<9} {'run':<26} {'source':<14} {'level':<7} codes  what"]
    for r in entries.to_dict(orient="records"):
        what = r["file_name"] + (f" {r['record_id']}" if _none(r.get("record_id")) else "")
        lines.append(
            f"{r['quarantine_id']!s:<14} {r['status']:<9} {r['run_id']!s:<26} "
            f"{r['source']!s:<14} {r['level']!s:<7} {r['codes']}  {what}"
        )
    return "\n".join(lines)


def _entry(wh, quarantine_id: str) -> dict:
    found = data.quarantine(wh, quarantine_id=quarantine_id)
    if found.empty:
        raise StewardError(f"no quarantine entry {quarantine_id!r}")
    return {k: _none(v) for k, v in found.iloc[0].to_dict().items()}


def show_entry(config, quarantine_id: str, context: int = 3) -> dict:
    """One entry: its findings (masked), masked excerpts of its raw XML, review trail, lineage."""
    with data.open_warehouse(config) as wh:
        entry = _entry(wh, quarantine_id)
        f = data.findings(
            wh, run_id=entry["run_id"], source=entry["source"], file_name=entry["file_name"]
        )
        reviews = data.reviews(wh, [quarantine_id])
        try:
            ledger = data.file_ledger(wh, entry["source"], entry["file_name"])
        except Exception:  # noqa: BLE001 - lineage is extra; the entry shows without it
            ledger = pd.DataFrame()
    if entry["level"] == "record":
        f = f[f["record_id"] == entry["record_id"]]
    else:
        f = f[f["level"] == "file"]
    findings = [
        {
            "code": r["code"],
            "rule": rules_catalog.message(r["code"]),
            "line": _none(r["line"]),
            "column": _none(r["column"]),
            "path": _none(r["path"]),
            "message": mask_message(_none(r["message"]), _none(r["path"])),
        }
        for r in f.to_dict(orient="records")
    ]
    raw = raw_file_for(Path(config.landing_dir), entry)
    excerpts = []
    masked = masked_raw_lines(str(raw)) if raw else None
    if masked is not None:
        in_raw = (_line_in_raw(entry, x["line"]) for x in findings)
        lines = sorted({ln for ln in in_raw if ln and ln > 0}) or [1]
        for ln in lines[:5]:
            excerpts.append({"line": ln, "lines": excerpt_lines(list(masked), ln, context=context)})
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
        "raw_available": raw is not None,
        "excerpts": excerpts,
        "reviews": [{k: _none(v) for k, v in r.items()} for r in reviews.to_dict(orient="records")],
        "lineage": [
            {k: _none(v) for k, v in r.items()} for r in ledger[keep].to_dict(orient="records")
        ],
    }


def format_entry(detail: dict) -> str:
    en = detail["entry"]
    status = detail["reviews"][-1]["status"] if detail["reviews"] else "open"
    out = [
        f"quarantine entry {en['quarantine_id']} ({status})",
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
    for ex in detail["excerpts"]:
        out.append("")
        out.append(f"excerpt around line {ex['line']} (of the kept raw XML, personal data masked):")
        for n, text in ex["lines"]:
            out.append(f"{'>' if n == ex['line'] else ' '}{n:>6} | {text}")
    if not detail["raw_available"]:
        out += ["", "raw XML not found in the landing area"]
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
    """Record that an entry was reviewed or resolved: a new audit row, never an update."""
    if status not in data.REVIEW_STATUSES:
        raise StewardError(
            f"status must be one of {', '.join(data.REVIEW_STATUSES)}, not {status!r}"
        )
    who = who or default_reviewer()
    when = when or dt.datetime.now(dt.UTC)
    with data.open_warehouse(config, read_only=False) as wh:
        _entry(wh, quarantine_id)
        data.ensure_review_table(wh)
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


def export_findings_csv(config, run_id: str, path: str | Path, source: str | None = None) -> int:
    """Write the findings of a run (optionally one source's) as CSV for the producing agency.

    Columns: those of `quality.finding`, then `rule` (the rule's message from the catalog).
    Messages are masked. Returns the number of rows written.
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
            row["message"] = mask_message(row["message"], row["path"])
            row["rule"] = rules_catalog.message(row["code"])
            w.writerow([spreadsheet_safe(row[c]) for c in EXPORT_COLUMNS])
    return len(f)
