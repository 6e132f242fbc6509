"""The validation report: one self-contained HTML page per run, and an index of runs.

    report_dir/index.html              every run with a report, newest first
    report_dir/<run_id>/index.html     the run's report (inline CSS and SVG; no scripts, no links
                                       to anything outside report_dir)
    report_dir/<run_id>/report.json    the figures the index shows

What a steward needs after a night's run: per source what happened to files and records, the
findings by rule, every quarantined file or record with its findings and a masked excerpt of the
XML, the W-flags per approving unit, the Great Expectations results, and trends over the last runs.
Nothing personal is shown: excerpts and messages go through `stewardship.masking`.

The functions here gather the figures; the markup is in the Jinja templates of
stewardship/templates/, whose stylesheet (report.css) is inlined into every page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from deflect.core import rules as rules_catalog
from deflect.core.fields import NOTHING_PUBLIC, FieldClasses
from stewardship import charts, data
from stewardship.excerpts import entry_excerpts
from stewardship.masking import mask_message

TREND_RUNS = 14
MAX_QUARANTINE_ENTRIES = 500  # detailed entries per report; the rest are counted
MAX_EXCERPTS_PER_ENTRY = 3
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


def e(value) -> str:
    """Escape a value for HTML; None and NaN show as an empty cell."""
    return "" if data.missing(value) else escape(str(value))


def _finalize(value):
    """How the templates print a value: escaped by `e`, so that a missing value is an empty cell
    and quotes come out as html.escape writes them (`&quot;`, `&#x27;`), like the charts' SVG,
    rather than markupsafe's `&#34;`, `&#39;`. Markup (macro output, charts) is kept as it is."""
    return value if hasattr(value, "__html__") else Markup(e(value))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("stewardship", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # a page file ends with a newline
        finalize=_finalize,
    )


@lru_cache(maxsize=1)
def _css() -> Markup:
    source, _, _ = _environment().loader.get_source(_environment(), "report.css")
    # Our own stylesheet, not data; escaping it would break its quoted font names.
    return Markup(source)


def _render(name: str, **context) -> Markup:
    # The output of an autoescaped template: every value in it was escaped on the way in.
    return Markup(_environment().get_template(name).render(**context))


def _page(name: str, **context) -> str:
    """A whole page, its stylesheet inline so that it is one file that opens offline."""
    return _environment().get_template(name).render(css=_css(), **context)


def _int(value) -> int:
    try:
        return 0 if data.missing(value) else int(value)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class Code:
    """A rule code as the report shows it: coloured by its level."""

    code: str
    level: str
    message: str


def _code(code: str) -> Code:
    return Code(code, rules_catalog.level(code) or "unknown", rules_catalog.message(code))


# --- sections ---------------------------------------------------------------------------------
@dataclass
class RunData:
    run_id: str
    load_runs: pd.DataFrame
    findings: pd.DataFrame
    quarantine: pd.DataFrame
    open_earlier: int
    flags: pd.DataFrame
    trend_runs: list[str]
    trend_findings: pd.DataFrame
    trend_loads: pd.DataFrame
    expectations: dict | None
    replay: dict | None = None  # meta.replay's row when the run replayed a file
    # which fields' values may be shown (adapters.registry.field_classes(), handed in)
    fields: FieldClasses = NOTHING_PUBLIC


def read_run_data(wh, run_id: str, report_dir: Path) -> RunData:
    loads = data.load_runs(wh, run_id)
    # the entries' states come from the warehouse, as `deflect quarantine list` shows them
    quarantined = data.quarantine(wh)
    this_run = quarantined[quarantined["run_id"] == run_id]
    earlier = quarantined[(quarantined["run_id"] < run_id)]
    open_earlier = int((earlier["state"] == "open").sum())
    replay = data.replays(wh, [run_id]).to_dict(orient="records")
    trend_runs = data.run_ids(wh, up_to=run_id, limit=TREND_RUNS)
    gx_path = Path(report_dir) / GX_RESULTS_DIR / f"{run_id}.json"
    return RunData(
        run_id=run_id,
        load_runs=loads,
        findings=data.findings(wh, run_id=run_id),
        quarantine=this_run.reset_index(drop=True),
        open_earlier=open_earlier,
        flags=data.deflection_flags(wh),
        trend_runs=trend_runs,
        trend_findings=data.finding_counts(wh, trend_runs),
        trend_loads=data.load_runs_for(wh, trend_runs),
        expectations=json.loads(gx_path.read_text(encoding="utf-8")) if gx_path.exists() else None,
        replay={k: (None if data.missing(v) else v) for k, v in replay[0].items()}
        if replay
        else None,
    )


def replay_label(replay: dict | None) -> str | None:
    """'replay of run R for entry E / file F', for a run that replayed a corrected file."""
    if not replay:
        return None
    what = (
        f"entry {str(replay['entry_id'])[:12]}" if replay.get("entry_id")
        else f"file {replay.get('file_name')}"
    )
    of = f" of run {replay['replay_of_run_id']}" if replay.get("replay_of_run_id") else ""
    return f"replay{of} for {what}"


def section_sources(d: RunData) -> str:
    keys = list(data.LOAD_RUN_COUNTS)
    rows = [
        {
            "source": r["source"],
            "status": r["status"],
            "ok": r["status"] == "ok",
            "counts": [_int(r[k]) for k in keys],
            "started_at": r["started_at"],
            "finished_at": r["finished_at"],
        }
        for r in d.load_runs.to_dict(orient="records")
    ]
    totals = [sum(_int(v) for v in d.load_runs[k]) for k in keys] if rows else []
    return _render("sections/sources.html", rows=rows, totals=totals)


def section_findings(d: RunData) -> str:
    f = d.findings
    if f.empty:
        return _render("sections/findings.html", rows=[], sources=[])
    sources = sorted(f["source"].dropna().unique().tolist())
    counts = f.groupby(["code", "source"]).size()
    rows = []
    for code in sorted(f["code"].unique(), key=_code_order):
        rule = rules_catalog.rule(code)
        rows.append(
            {
                "code": _code(code),
                "level": rule.level if rule else "",
                "effect": rule.effect if rule else "",
                "per_source": [int(counts.get((code, s), 0)) for s in sources],
                "total": int((f["code"] == code).sum()),
            }
        )
    return _render("sections/findings.html", rows=rows, sources=sources)


def _code_order(code: str) -> tuple[int, str]:
    return ("FSBW".find(code[:1]) if code[:1] in "FSBW" else 9, code)


def section_quarantine(d: RunData, landing_dir: Path) -> str:
    q = d.quarantine
    context = {
        "open_earlier": d.open_earlier,
        "run_id": d.run_id,
        "total": len(q),
        "files": 0,
        "records": 0,
        "entries": [],
        "hidden": 0,
    }
    if not q.empty:
        context.update(
            files=int((q["level"] == "file").sum()),
            records=int((q["level"] == "record").sum()),
            entries=[
                _quarantine_entry(entry, d.findings, landing_dir, d.fields)
                for entry in q.head(MAX_QUARANTINE_ENTRIES).to_dict(orient="records")
            ],
            hidden=max(len(q) - MAX_QUARANTINE_ENTRIES, 0),
        )
    return _render("sections/quarantine.html", **context)


def _entry_findings(entry: dict, f: pd.DataFrame) -> pd.DataFrame:
    sel = (f["source"] == entry["source"]) & (f["file_name"] == entry["file_name"])
    if entry.get("level") == "record" and entry.get("record_id") is not None:
        sel &= f["record_id"] == entry["record_id"]
    else:
        sel &= f["level"] == "file"
    return f[sel]


def _quarantine_entry(entry: dict, f: pd.DataFrame, landing_dir: Path,
                      fields: FieldClasses = NOTHING_PUBLIC) -> dict:
    found = _entry_findings(entry, f)
    codes = sorted(
        set(found["code"]) | set(str(entry.get("codes") or "").replace(" ", "").split(",")) - {""},
        key=_code_order,
    )
    raw = entry_excerpts(landing_dir, entry, found.to_dict(orient="records"), fields,
                         limit=MAX_EXCERPTS_PER_ENTRY)
    return {
        "quarantine_id": entry["quarantine_id"],
        "codes": [_code(c) for c in codes],
        "is_record": entry.get("level") == "record",
        "record_id": entry.get("record_id"),
        "record_version": entry.get("record_version"),
        "file_name": entry["file_name"],
        "source": entry["source"],
        "status": entry["state"],
        "findings": [
            {
                "code": _code(r["code"]),
                "line": _int(r["line"]) or "",
                "column": _int(r["column"]) or "",
                "path": r["path"],
                "message": mask_message(r["message"], r["path"], fields),
            }
            for r in found.to_dict(orient="records")
        ],
        "raw": raw["raw"],
        "excerpts": raw["excerpts"],
    }


def section_flags(d: RunData) -> str:
    fl = d.flags
    if fl.empty:
        return _render("sections/flags.html", empty=True, codes=[], rows=[])
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
        {
            "unit": unit,
            "counts": [int(table.loc[unit, c]) for c in codes],
            "total": int(table.loc[unit].sum()),
        }
        for unit in sorted(table.index)
    ]
    return _render("sections/flags.html", empty=False, codes=[_code(c) for c in codes], rows=rows)


def section_expectations(d: RunData, report_dir: Path) -> str:
    gx = d.expectations
    if gx is None:
        return _render("sections/expectations.html", ran=False)

    def href(target: str | None) -> str | None:
        # relative to the run's page, so that report_dir can be moved or copied whole
        if not target:
            return None
        rel = os.path.relpath(Path(report_dir) / target, Path(report_dir) / d.run_id)
        return Path(rel).as_posix()

    suites, failures, expectations = [], [], []
    for s in gx.get("suites", []):
        checks = s.get("expectations", [])
        suites.append(
            {
                "name": s["suite"],
                "href": href(s.get("data_docs_page")),
                "rows": _int(s.get("rows")),
                "expectations": len(checks),
                "failed": sum(1 for x in checks if not x["success"]),
                "success": s["success"],
            }
        )
        for x in checks:
            check = {
                "suite": s["suite"],
                "expectation": x["expectation"],
                "columns": ", ".join(x.get("columns") or []),
                "success": x["success"],
                "unexpected": _int(x.get("unexpected_count")),
                "elements": _int(x.get("element_count")),
            }
            expectations.append(check)
            if x["success"]:
                continue
            unexpected_rows = x.get("unexpected_rows") or []
            row_columns = list(unexpected_rows[0].keys()) if unexpected_rows else []
            failures.append(
                check
                | {
                    "error": x.get("error"),
                    "row_columns": row_columns,
                    "rows": [[r.get(c) for c in row_columns] for r in unexpected_rows],
                }
            )
    return _render(
        "sections/expectations.html",
        ran=True,
        checkpoint=gx.get("checkpoint"),
        success=gx.get("success"),
        evaluated=gx.get("evaluated"),
        failed=gx.get("failed"),
        docs_href=href(gx.get("data_docs_index")),
        suites=suites,
        failures=failures,
        expectations=expectations,
    )


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
    # charts.stacked_bars writes its SVG itself and escapes every label, name and title in it.
    chart1 = Markup(charts.stacked_bars(labels, series, "Findings by rule code, last runs"))
    tl = d.trend_loads
    sources = sorted(tl["source"].unique().tolist()) if not tl.empty else []
    loaded = {f"{s} loaded": [0.0] * len(labels) for s in sources}
    quar = {f"{s} quarantined": [0.0] * len(labels) for s in sources}
    for r in tl.to_dict(orient="records"):
        loaded[f"{r['source']} loaded"][index[r["run_id"]]] += _int(r["records_loaded"])
        quar[f"{r['source']} quarantined"][index[r["run_id"]]] += _int(r["records_quarantined"])
    chart2 = Markup(charts.stacked_bars(labels, loaded, "Records loaded by source, last runs"))
    chart3 = Markup(charts.stacked_bars(labels, quar, "Records quarantined by source, last runs"))
    return _render("sections/trends.html", charts=[chart1, chart2, chart3])


# --- page -------------------------------------------------------------------------------------
def render_run_page(d: RunData, landing_dir: Path, report_dir: Path, generated_at: str) -> str:
    as_of = d.load_runs["as_of"].iloc[0] if not d.load_runs.empty else None
    failed = (
        d.load_runs[d.load_runs["status"] != "ok"]["source"].tolist()
        if not d.load_runs.empty
        else []
    )
    # Each body is the output of an autoescaped section template.
    bodies = {
        "sources": section_sources(d),
        "findings": section_findings(d),
        "quarantine": section_quarantine(d, landing_dir),
        "flags": section_flags(d),
        "expectations": section_expectations(d, report_dir),
        "trends": section_trends(d),
    }
    return _page(
        "run.html",
        run_id=d.run_id,
        as_of=as_of,
        replay=replay_label(d.replay),
        failed_sources=failed,
        generated_at=generated_at,
        sections=SECTIONS,
        bodies=bodies,
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
        "replay": replay_label(d.replay),
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
    page = _page(
        "index.html",
        runs=[
            {
                "run_id": r["run_id"],
                "as_of": r.get("as_of"),
                "sources": r.get("sources", 0),
                "failed_sources": r.get("failed_sources") or [],
                "files_quarantined": r.get("files_quarantined", 0),
                "records_loaded": r.get("records_loaded", 0),
                "records_quarantined": r.get("records_quarantined", 0),
                "findings": r.get("findings", 0),
                "expectations_success": r.get("expectations_success"),
                "replay": r.get("replay"),
            }
            for r in runs
        ],
    )
    path = report_dir / "index.html"
    _write_atomic(path, page)
    return path


def write_run_report(config, run_id: str, fields: FieldClasses = NOTHING_PUBLIC) -> Path:
    """Write report_dir/<run_id>/index.html (and report.json), refresh report_dir/index.html.
    `fields`: which fields' values may be shown (without it, no value is)."""
    report_dir = Path(config.report_dir)
    with data.open_warehouse(config) as wh:
        d = read_run_data(wh, run_id, report_dir)
    d.fields = fields
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    page = render_run_page(d, Path(config.landing_dir), report_dir, generated)
    out = report_dir / run_id / "index.html"
    _write_atomic(out, page)
    _write_atomic(
        report_dir / run_id / "report.json", json.dumps(_summary(d), indent=2, default=str)
    )
    write_index(report_dir)
    return out
