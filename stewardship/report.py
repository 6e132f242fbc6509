"""The validation report: one self-contained HTML page per run, and an index of runs.

    report_dir/index.html              every run with a report, newest first
    report_dir/<run_id>/index.html     the run's report (inline CSS and SVG; no scripts, no links
                                       to anything outside report_dir)
    report_dir/<run_id>/report.json    the figures the index shows

What a steward needs after a night's run: per source what happened to files and records, the
findings by rule, every quarantined file or record with its findings and a masked excerpt of the
XML, the W-flags per approving unit, the Great Expectations results, and trends over the last runs.
Nothing personal is shown: excerpts and messages go through `stewardship.masking`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

import pandas as pd

from deflect.core import rules as rules_catalog
from stewardship import charts, data
from stewardship.masking import excerpt_lines, mask_message, mask_xml

TREND_RUNS = 14
MAX_QUARANTINE_ENTRIES = 500  # detailed entries per report; the rest are counted
MAX_EXCERPTS_PER_ENTRY = 3
RAW_READ_LIMIT = 8 * 1024 * 1024  # bytes of a raw file read for an excerpt
EXCERPT_CONTEXT = 3
TOP_CODES_IN_CHART = 10
GX_RESULTS_DIR = "gx/results"  # under report_dir: <run_id>.json written by stewardship.expectations

SECTIONS = (
    ("sources", "Sources"),
    ("findings", "Findings by rule"),
    ("quarantine", "Quarantined files and records"),
    ("flags", "W-flags by approving unit"),
    ("expectations", "Expectations"),
    ("trends", "Trends"),
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
color:#1d2733;background:#f6f7f9;font-size:14px;line-height:1.4}
header{background:#1f3a5f;color:#fff;padding:16px 24px}
header h1{margin:0 0 4px;font-size:22px} header .meta{opacity:.9} header .bad{color:#ffb4ab}
nav{background:#fff;border-bottom:1px solid #d8dde3;padding:8px 24px;position:sticky;top:0}
nav a{margin-right:16px;color:#1f3a5f;text-decoration:none;font-weight:600}
main{padding:8px 24px 40px;max-width:1280px}
section{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:12px 16px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px;color:#1f3a5f} h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid #d8dde3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fdecea} .ok{color:#1b7f3b;font-weight:600}
.bad{color:#b3261e;font-weight:600} .muted{color:#66717d}
.code{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-weight:600}
.lvl-file{color:#b3261e} .lvl-record{color:#b35c00} .lvl-deflection{color:#1f5fa8}
pre.xml{background:#f3f4f6;border:1px solid #d8dde3;padding:6px 8px;overflow-x:auto;
font-size:12px;margin:4px 0 10px}
pre.xml .ln{color:#8a94a0;display:inline-block;width:5.5em;user-select:none}
pre.xml .hit{background:#ffe08a;display:inline-block;min-width:100%}
.entry{border-top:1px solid #e4e7eb;padding:8px 0}
.entry h3{margin:0 0 4px}
.chart{background:#fff;margin:6px 12px 6px 0}
.chart-title{font-weight:600;font-size:13px;fill:#1d2733} .tick{font-size:11px;fill:#4a5561}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#eef1f5}
.badge.open{background:#fdecea} .badge.reviewed{background:#fff4d6}
.badge.resolved{background:#e3f4e8}
summary{cursor:pointer;color:#1f3a5f;font-weight:600;margin:8px 0}
"""


def e(value) -> str:
    """Escape a value for HTML; None and NaN show as an empty cell."""
    return "" if data.missing(value) else escape(str(value))


def _int(value) -> int:
    try:
        return 0 if data.missing(value) else int(value)
    except (TypeError, ValueError):
        return 0


def _table(
    headers: list[str],
    rows: list[list[str]],
    numeric: set[int] = frozenset(),
    row_classes: list[str] | None = None,
    table_id: str | None = None,
) -> str:
    """An HTML table from already-escaped cell strings."""
    out = [f"<table{f' id={chr(34)}{table_id}{chr(34)}' if table_id else ''}><thead><tr>"]
    out += [
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(headers)
    ]
    out.append("</tr></thead><tbody>")
    for r, row in enumerate(rows):
        cls = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        out.append(
            f"<tr{cls}>"
            + "".join(
                f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _code(code: str) -> str:
    lvl = rules_catalog.level(code) or "unknown"
    return f'<span class="code lvl-{e(lvl)}">{e(code)}</span>'


# --- raw XML excerpts -------------------------------------------------------------------------
def _decode(raw: bytes) -> str | None:
    """Text of a raw file for display, or None when it is not text (binary, undecodable gzip)."""
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=__import__("io").BytesIO(raw)) as gz:
                raw = gz.read(RAW_READ_LIMIT)
        except (OSError, EOFError):
            return None
    head = raw[:200].lower()
    if b"\x00" in raw[:4096]:
        return None
    if b"iso-8859-1" in head or b"latin-1" in head or b"latin1" in head:
        return raw.decode("latin-1")
    return raw.decode("utf-8-sig", errors="replace")


@lru_cache(maxsize=32)
def masked_raw_lines(path: str) -> tuple[str, ...] | None:
    """The raw file's first RAW_READ_LIMIT bytes as masked lines; None when it is not text."""
    with open(path, "rb") as fh:
        text = _decode(fh.read(RAW_READ_LIMIT))
    return None if text is None else tuple(mask_xml(text).split("\n"))


def raw_file_for(landing_dir: Path, entry: dict) -> Path | None:
    """The quarantined raw bytes of an entry, only ever inside the landing area."""
    landing = Path(landing_dir).resolve()
    candidates = []
    if entry.get("raw_path"):
        p = Path(str(entry["raw_path"]))
        candidates.append(p if p.is_absolute() else landing / p)
    for digest in (entry.get("record_sha256"), entry.get("file_sha256")):
        if digest and isinstance(digest, str):
            candidates.append(landing / "quarantine" / f"{digest}.xml")
    for c in candidates:
        try:
            resolved = c.resolve()
        except OSError:
            continue
        if resolved.is_file() and (resolved == landing or landing in resolved.parents):
            return resolved
    return None


def _line_in_raw(entry: dict, file_line) -> int | None:
    """A finding's file line as a line of the raw text kept for the entry.

    A quarantined record is kept alone, starting at its element's line in the file (entry `line`);
    a quarantined file is kept whole.
    """
    if data.missing(file_line):
        return None
    file_line = int(file_line)
    start = entry.get("line")
    if entry.get("level") == "record" and not data.missing(start):
        return file_line - int(start) + 1
    return file_line


def excerpt_html(lines: tuple[str, ...], line: int | None, context: int = EXCERPT_CONTEXT) -> str:
    if line and line > len(lines):
        return (
            f'<p class="muted">line {line} is beyond the first {RAW_READ_LIMIT // 2**20} MB '
            f"of the file: no excerpt.</p>"
        )
    rows = []
    for n, content in excerpt_lines(list(lines), line, context=context):
        body = f'<span class="ln">{n}</span>{e(content)}'
        rows.append(f'<span class="hit">{body}</span>' if n == line else body)
    return '<pre class="xml">' + "\n".join(rows) + "</pre>"


# --- sections ---------------------------------------------------------------------------------
@dataclass
class RunData:
    run_id: str
    load_runs: pd.DataFrame
    findings: pd.DataFrame
    quarantine: pd.DataFrame
    reviews: pd.DataFrame
    open_earlier: int
    flags: pd.DataFrame
    trend_runs: list[str]
    trend_findings: pd.DataFrame
    trend_loads: pd.DataFrame
    expectations: dict | None


def read_run_data(wh, run_id: str, report_dir: Path) -> RunData:
    loads = data.load_runs(wh, run_id)
    quarantined = data.quarantine(wh)
    reviews = data.reviews(wh)
    latest = _latest_status(reviews)
    this_run = quarantined[quarantined["run_id"] == run_id]
    earlier = quarantined[(quarantined["run_id"] < run_id)]
    open_earlier = sum(
        1
        for q, load in zip(earlier["quarantine_id"], earlier["load_status"])
        if latest.get(str(q)) != "resolved" and load != "resolved"
    )
    trend_runs = data.run_ids(wh, up_to=run_id, limit=TREND_RUNS)
    gx_path = Path(report_dir) / GX_RESULTS_DIR / f"{run_id}.json"
    return RunData(
        run_id=run_id,
        load_runs=loads,
        findings=data.findings(wh, run_id=run_id),
        quarantine=this_run.reset_index(drop=True),
        reviews=reviews,
        open_earlier=open_earlier,
        flags=data.deflection_flags(wh),
        trend_runs=trend_runs,
        trend_findings=data.finding_counts(wh, trend_runs),
        trend_loads=data.load_runs_for(wh, trend_runs),
        expectations=json.loads(gx_path.read_text(encoding="utf-8")) if gx_path.exists() else None,
    )


def _latest_status(reviews: pd.DataFrame) -> dict[str, str]:
    status = {}
    for row in reviews.to_dict(orient="records"):  # oldest first: the last one wins
        status[str(row["quarantine_id"])] = row["status"]
    return status


def section_sources(d: RunData) -> str:
    headers = [
        "source",
        "status",
        "files seen",
        "loaded",
        "pending",
        "quarantined",
        "duplicate",
        "records loaded",
        "records quarantined",
        "started",
        "finished",
    ]
    keys = list(data.LOAD_RUN_COUNTS)
    rows, classes = [], []
    for r in d.load_runs.to_dict(orient="records"):
        ok = r["status"] == "ok"
        rows.append(
            [e(r["source"]), f'<span class="{"ok" if ok else "bad"}">{e(r["status"])}</span>']
            + [str(_int(r[k])) for k in keys]
            + [e(r["started_at"]), e(r["finished_at"])]
        )
        classes.append("" if ok else "failed")
    if not rows:
        return "<p>No source was recorded for this run.</p>"
    totals = (
        ["<b>all sources</b>", ""]
        + [f"<b>{sum(_int(v) for v in d.load_runs[k])}</b>" for k in keys]
        + ["", ""]
    )
    return _table(
        headers,
        rows + [totals],
        numeric=set(range(2, 9)),
        row_classes=classes + [""],
        table_id="sources-table",
    )


def section_findings(d: RunData) -> str:
    f = d.findings
    if f.empty:
        return "<p>No findings in this run.</p>"
    sources = sorted(f["source"].dropna().unique().tolist())
    counts = f.groupby(["code", "source"]).size()
    rows = []
    for code in sorted(f["code"].unique(), key=_code_order):
        rule = rules_catalog.rule(code)
        per_source = [str(int(counts.get((code, s), 0))) for s in sources]
        rows.append(
            [
                _code(code),
                e(rule.level if rule else ""),
                e(rules_catalog.message(code)),
                e(rule.effect if rule else ""),
            ]
            + per_source
            + [f"<b>{int((f['code'] == code).sum())}</b>"]
        )
    n = len(sources)
    return _table(
        ["code", "level", "rule", "effect"] + [e(s) for s in sources] + ["total"],
        rows,
        numeric=set(range(4, 5 + n)),
        table_id="findings-table",
    )


def _code_order(code: str) -> tuple[int, str]:
    return ("FSBW".find(code[:1]) if code[:1] in "FSBW" else 9, code)


def section_quarantine(d: RunData, landing_dir: Path) -> str:
    q = d.quarantine
    parts = []
    if d.open_earlier:
        parts.append(
            f"<p>{d.open_earlier} quarantine entr{'y' if d.open_earlier == 1 else 'ies'} "
            f'from earlier runs not yet resolved (<span class="code">deflect quarantine '
            f"list --status open</span>).</p>"
        )
    if q.empty:
        parts.append("<p>Nothing was quarantined in this run.</p>")
        return "".join(parts)
    latest = _latest_status(d.reviews)
    parts.append(
        f"<p>{len(q)} quarantined in this run: "
        f"{int((q['level'] == 'file').sum())} file(s), "
        f"{int((q['level'] == 'record').sum())} record(s).</p>"
    )
    f = d.findings
    for entry in q.head(MAX_QUARANTINE_ENTRIES).to_dict(orient="records"):
        parts.append(
            _quarantine_entry(entry, f, landing_dir, latest.get(str(entry["quarantine_id"])))
        )
    if len(q) > MAX_QUARANTINE_ENTRIES:
        parts.append(
            f"<p>{len(q) - MAX_QUARANTINE_ENTRIES} more entries are not shown here: "
            f"<span class='code'>deflect quarantine list --run-id {e(d.run_id)}</span>.</p>"
        )
    return "".join(parts)


def _entry_findings(entry: dict, f: pd.DataFrame) -> pd.DataFrame:
    sel = (f["source"] == entry["source"]) & (f["file_name"] == entry["file_name"])
    if entry.get("level") == "record" and entry.get("record_id") is not None:
        sel &= f["record_id"] == entry["record_id"]
    else:
        sel &= f["level"] == "file"
    return f[sel]


def _quarantine_entry(entry: dict, f: pd.DataFrame, landing_dir: Path, status: str | None) -> str:
    found = _entry_findings(entry, f)
    codes = sorted(
        set(found["code"]) | set(str(entry.get("codes") or "").replace(" ", "").split(",")) - {""},
        key=_code_order,
    )
    status = status or "open"
    what = (
        f'record <span class="code">{e(entry["record_id"])}</span> in '
        if entry.get("level") == "record"
        else "file "
    )
    out = [
        f'<div class="entry" id="q-{e(entry["quarantine_id"])}">',
        (
            f'<h3>{" ".join(_code(c) for c in codes)} — {what}<span class="code">'
            f'{e(entry["file_name"])}</span> <span class="muted">({e(entry["source"])})</span> '
            f'<span class="badge {e(status)}">{e(status)}</span></h3>'
        ),
        f'<div class="muted">quarantine id {e(entry["quarantine_id"])}'
        + (f", record version {e(entry['record_version'])}" if entry.get("record_version") else "")
        + "</div>",
    ]
    rows = [
        [
            _code(r["code"]),
            e(_int(r["line"]) or ""),
            e(_int(r["column"]) or ""),
            e(r["path"]),
            e(mask_message(r["message"], r["path"])),
        ]
        for r in found.to_dict(orient="records")
    ]
    if rows:
        out.append(_table(["code", "line", "column", "XML path", "message"], rows, numeric={1, 2}))
    raw = raw_file_for(landing_dir, entry)
    text = masked_raw_lines(str(raw)) if raw else None
    if raw is None:
        out.append('<p class="muted">The raw XML is not in the landing area: no excerpt.</p>')
    elif text is None:
        out.append(
            '<p class="muted">The raw file is not readable text (binary or compressed '
            "beyond repair): no excerpt.</p>"
        )
    else:
        lines = sorted(
            {ln for ln in (_line_in_raw(entry, v) for v in found["line"]) if ln and ln > 0}
        )
        if not lines:
            lines = [1]
        shown = []
        for ln in lines:
            if shown and ln - shown[-1] <= EXCERPT_CONTEXT:
                continue  # already visible in the previous excerpt
            shown.append(ln)
            if len(shown) > MAX_EXCERPTS_PER_ENTRY:
                break
            out.append(excerpt_html(text, ln))
    out.append("</div>")
    return "".join(out)


def section_flags(d: RunData) -> str:
    fl = d.flags
    if fl.empty:
        return "<p>No counted deflection carries a W-flag.</p>"
    pairs = [
        (u, code)
        for u, flags in zip(fl["approving_unit_code"], fl["flags"])
        for code in str(flags).split(",")
        if code
    ]
    frame = pd.DataFrame(pairs, columns=["unit", "code"])
    table = frame.groupby(["unit", "code"]).size().unstack(fill_value=0)
    codes = sorted(table.columns, key=_code_order)
    rows = [
        [e(unit)]
        + [
            str(int(table.loc[unit, c])) if table.loc[unit, c] else '<span class="muted">0</span>'
            for c in codes
        ]
        + [f"<b>{int(table.loc[unit].sum())}</b>"]
        for unit in sorted(table.index)
    ]
    legend = "".join(f"<li>{_code(c)} {e(rules_catalog.message(c))}</li>" for c in codes)
    return (
        "<p>Deflections currently counted, by approving unit, with each flag that applies "
        "now (a deflection may carry several).</p>"
        + _table(
            ["unit"] + [_code(c) for c in codes] + ["total"],
            rows,
            numeric=set(range(1, len(codes) + 2)),
            table_id="flags-table",
        )
        + f"<ul>{legend}</ul>"
    )


def section_expectations(d: RunData, report_dir: Path) -> str:
    gx = d.expectations
    if gx is None:
        return "<p>The expectation suites were not run for this run.</p>"
    docs = gx.get("data_docs_index")
    parts = []
    ok = gx.get("success")
    parts.append(
        f'<p>Checkpoint <span class="code">{e(gx.get("checkpoint"))}</span>: '
        f'<span class="{"ok" if ok else "bad"}">{"all expectations met" if ok else "some expectations failed"}</span>'
        f" ({e(gx.get('evaluated'))} evaluated, {e(gx.get('failed'))} failed)."
    )
    if docs:
        rel = os.path.relpath(Path(report_dir) / docs, Path(report_dir) / d.run_id)
        parts.append(
            f' <a href="{e(Path(rel).as_posix())}" id="data-docs-link">Open the Data Docs</a>'
        )
    parts.append("</p>")
    suite_rows, suite_classes = [], []
    for s in gx.get("suites", []):
        failed = sum(1 for x in s.get("expectations", []) if not x["success"])
        page = s.get("data_docs_page")
        name = e(s["suite"])
        if page:
            href = Path(os.path.relpath(Path(report_dir) / page, Path(report_dir) / d.run_id))
            name = f'<a href="{e(href.as_posix())}">{name}</a>'
        suite_rows.append(
            [
                name,
                str(_int(s.get("rows"))),
                str(len(s.get("expectations", []))),
                str(failed),
                '<span class="ok">met</span>'
                if s["success"]
                else '<span class="bad">failed</span>',
            ]
        )
        suite_classes.append("" if s["success"] else "failed")
    parts.append(
        _table(
            ["suite", "rows", "expectations", "failed", "result"],
            suite_rows,
            numeric={1, 2, 3},
            row_classes=suite_classes,
            table_id="suites-table",
        )
    )
    for s in gx.get("suites", []):
        for x in s.get("expectations", []):
            if x["success"]:
                continue
            parts.append(
                f'<h3 class="failed-expectation">{e(s["suite"])}: {e(x["expectation"])} '
                f"({e(', '.join(x.get('columns') or []))}) — "
                f"{_int(x.get('unexpected_count'))} of {_int(x.get('element_count'))} rows</h3>"
            )
            if x.get("error"):
                parts.append(f'<p class="bad">could not be evaluated: {e(x["error"])}</p>')
            if not x.get("unexpected_rows"):
                continue
            cols = list(x["unexpected_rows"][0].keys())
            parts.append(
                _table(
                    [e(c) for c in cols],
                    [[e(r.get(c)) for c in cols] for r in x["unexpected_rows"]],
                )
            )
            if _int(x.get("unexpected_count")) > len(x["unexpected_rows"]):
                parts.append(
                    f'<p class="muted">first {len(x["unexpected_rows"])} of '
                    f"{_int(x.get('unexpected_count'))} shown</p>"
                )
    rows, classes = [], []
    for s in gx.get("suites", []):
        for x in s.get("expectations", []):
            rows.append(
                [
                    e(s["suite"]),
                    e(x["expectation"]),
                    e(", ".join(x.get("columns") or [])),
                    '<span class="ok">met</span>'
                    if x["success"]
                    else '<span class="bad">failed</span>',
                    str(_int(x.get("unexpected_count"))),
                    str(_int(x.get("element_count"))),
                ]
            )
            classes.append("" if x["success"] else "failed")
    parts.append(
        "<details><summary>Every expectation</summary>"
        + _table(
            ["suite", "expectation", "column(s)", "result", "unexpected", "rows"],
            rows,
            numeric={4, 5},
            row_classes=classes,
            table_id="expectations-table",
        )
        + "</details>"
    )
    return "".join(parts)


def _run_label(run_id: str) -> str:
    """'20261126T214615Z-ab12cd34' -> '11-26 21:46'; other ids as they are, shortened."""
    try:
        stamp = dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ")
        return stamp.strftime("%m-%d %H:%M")
    except ValueError:
        return run_id[:14]


def section_trends(d: RunData) -> str:
    labels = [_run_label(r) for r in d.trend_runs]
    tf = d.trend_findings
    by_code = (
        tf.groupby("code")["findings"].sum().sort_values(ascending=False)
        if not tf.empty
        else pd.Series(dtype=int)
    )
    top = sorted(by_code.index[:TOP_CODES_IN_CHART].tolist(), key=_code_order)
    series = {c: [0.0] * len(labels) for c in top}
    if len(by_code) > len(top):
        series["other"] = [0.0] * len(labels)
    index = {r: i for i, r in enumerate(d.trend_runs)}
    for r in tf.to_dict(orient="records"):
        key = r["code"] if r["code"] in series else "other"
        series[key][index[r["run_id"]]] += _int(r["findings"])
    chart1 = charts.stacked_bars(labels, series, "Findings by rule code, last runs")
    tl = d.trend_loads
    sources = sorted(tl["source"].unique().tolist()) if not tl.empty else []
    loaded = {f"{s} loaded": [0.0] * len(labels) for s in sources}
    quar = {f"{s} quarantined": [0.0] * len(labels) for s in sources}
    for r in tl.to_dict(orient="records"):
        loaded[f"{r['source']} loaded"][index[r["run_id"]]] += _int(r["records_loaded"])
        quar[f"{r['source']} quarantined"][index[r["run_id"]]] += _int(r["records_quarantined"])
    chart2 = charts.stacked_bars(labels, loaded, "Records loaded by source, last runs")
    chart3 = charts.stacked_bars(labels, quar, "Records quarantined by source, last runs")
    return f'<div id="trend-charts">{chart1}{chart2}{chart3}</div>'


# --- page -------------------------------------------------------------------------------------
def render_run_page(d: RunData, landing_dir: Path, report_dir: Path, generated_at: str) -> str:
    as_of = d.load_runs["as_of"].iloc[0] if not d.load_runs.empty else None
    failed = (
        d.load_runs[d.load_runs["status"] != "ok"]["source"].tolist()
        if not d.load_runs.empty
        else []
    )
    bodies = {
        "sources": section_sources(d),
        "findings": section_findings(d),
        "quarantine": section_quarantine(d, landing_dir),
        "flags": section_flags(d),
        "expectations": section_expectations(d, report_dir),
        "trends": section_trends(d),
    }
    nav = "".join(f'<a href="#{sid}">{e(title)}</a>' for sid, title in SECTIONS)
    sections = "".join(
        f'<section id="{sid}"><h2>{e(title)}</h2>{bodies[sid]}</section>' for sid, title in SECTIONS
    )
    status = (
        f'<span class="bad">failed sources: {e(", ".join(failed))}</span>'
        if failed
        else "all sources processed"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Validation report — run {e(d.run_id)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>"
        f'<header><h1>Validation report</h1><div class="meta">run <span class="code">'
        f"{e(d.run_id)}</span> · as of {e(as_of)} · {status} · generated {e(generated_at)} · "
        f'<a href="../index.html" style="color:#fff">all runs</a></div></header>'
        f"<nav>{nav}</nav><main>{sections}</main></body></html>\n"
    )


def _summary(d: RunData) -> dict:
    lr = d.load_runs
    return {
        "run_id": d.run_id,
        "as_of": str(lr["as_of"].iloc[0]) if not lr.empty else None,
        "sources": len(lr),
        "failed_sources": sorted(lr[lr["status"] != "ok"]["source"].tolist())
        if not lr.empty
        else [],
        "files_quarantined": int(sum(_int(v) for v in lr["files_quarantined"]))
        if not lr.empty
        else 0,
        "records_loaded": int(sum(_int(v) for v in lr["records_loaded"])) if not lr.empty else 0,
        "records_quarantined": int(sum(_int(v) for v in lr["records_quarantined"]))
        if not lr.empty
        else 0,
        "findings": len(d.findings),
        "expectations_success": (d.expectations or {}).get("success"),
    }


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_index(report_dir: Path) -> Path:
    """report_dir/index.html: every run with a report, newest first."""
    report_dir = Path(report_dir)
    runs = []
    for p in report_dir.glob("*/report.json"):
        try:
            runs.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    runs.sort(key=lambda r: r["run_id"], reverse=True)
    rows, classes = [], []
    for r in runs:
        gx = r.get("expectations_success")
        rows.append(
            [
                f'<a href="{e(r["run_id"])}/index.html">{e(r["run_id"])}</a>',
                e(r.get("as_of")),
                str(r.get("sources", 0)),
                f'<span class="bad">{e(", ".join(r["failed_sources"]))}</span>'
                if r.get("failed_sources")
                else '<span class="ok">none</span>',
                str(r.get("files_quarantined", 0)),
                str(r.get("records_loaded", 0)),
                str(r.get("records_quarantined", 0)),
                str(r.get("findings", 0)),
                ""
                if gx is None
                else ('<span class="ok">met</span>' if gx else '<span class="bad">failed</span>'),
            ]
        )
        classes.append("failed" if r.get("failed_sources") else "")
    table = _table(
        [
            "run",
            "as of",
            "sources",
            "failed sources",
            "files quarantined",
            "records loaded",
            "records quarantined",
            "findings",
            "expectations",
        ],
        rows,
        numeric={2, 4, 5, 6, 7},
        row_classes=classes,
        table_id="runs-table",
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Validation reports</title><style>{CSS}</style></head><body>"
        '<header><h1>Validation reports</h1><div class="meta">one report per pipeline run'
        '</div></header><main><section id="runs"><h2>Runs</h2>'
        + (table if rows else "<p>No reports yet.</p>")
        + "</section></main></body></html>\n"
    )
    path = report_dir / "index.html"
    _write_atomic(path, page)
    return path


def write_run_report(config, run_id: str) -> Path:
    """Write report_dir/<run_id>/index.html (and report.json), refresh report_dir/index.html."""
    report_dir = Path(config.report_dir)
    with data.open_warehouse(config) as wh:
        d = read_run_data(wh, run_id, report_dir)
    masked_raw_lines.cache_clear()
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    page = render_run_page(d, Path(config.landing_dir), report_dir, generated)
    out = report_dir / run_id / "index.html"
    _write_atomic(out, page)
    _write_atomic(
        report_dir / run_id / "report.json", json.dumps(_summary(d), indent=2, default=str)
    )
    write_index(report_dir)
    return out
