"""The validation report: a few self-contained HTML pages per run, and an index of runs.

    report_dir/index.html                      every run with a report, newest first
    report_dir/<run_id>/index.html             is tonight OK: verdict, entries new / carried
                                               over / resolved, pending files, what to do
                                               first; sources, codes, W-flags, expectations,
                                               trends
    report_dir/<run_id>/entries.html           the night's entries (2,000 a group), a filter
    report_dir/<run_id>/entries.csv            every one of them, uncapped
    report_dir/<run_id>/sources/<source>.html  one source's entries in detail, whom to ask
    report_dir/<run_id>/flags.html             the deflection ids behind the W-flag counts
    report_dir/<run_id>/expectations.html      every expectation result of the run
    report_dir/<run_id>/report.json            the figures the index shows

Every page has its CSS inline, draws its charts as inline SVG and links only to pages of
report_dir; only entries.html carries a few lines of script (its filter). Every count of an
entry comes from `stewardship.tonight` (one definition, shared with the steward commands and
anything else that shows a night). Nothing personal is shown: excerpts and messages go through
`stewardship.masking`; contacts come from the configured contacts file.

The functions here gather the figures; the markup is in the Jinja templates of
stewardship/templates/, whose stylesheet (report.css) is inlined into every page.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from deflect.core import rules as rules_catalog
from deflect.core.fields import NOTHING_PUBLIC, FieldClasses
from stewardship import charts, data
from stewardship import tonight as tonight_
from stewardship.excerpts import entry_excerpts
from stewardship.masking import mask_message

TREND_RUNS = 14
MAX_QUARANTINE_ENTRIES = 500  # detailed entries per group and page; the rest are counted
# CARRIED: carried-over entries are counted per source, level and codes, with the commands and
# the query that list them one by one, not listed or detailed on every night's pages. They are
# every entry of every earlier night that is still open or waiting on its source: five years of
# nights made a night's pages cost five times an empty warehouse's, for entries the steward
# saw in detail on the night each was new (docs/stewards.md, "Carried-over entries").
# deflection ids listed per unit and flag on flags.html; the rest are counted, with the query
# that lists them all (years of flagged deflections would make a page of megabytes every night)
MAX_FLAG_IDS = 200
# entries listed per group on entries.html, and record ids per source page's "quarantined
# tonight": a first backfill quarantines a hundred thousand records in one night, which as
# rows made a page of 76 MB and most of the report's memory. Every entry is in entries.csv.
MAX_ENTRIES_LISTED = 2000
ENTRIES_CSV = "entries.csv"
MAX_EXCERPTS_PER_ENTRY = 3
TOP_CODES_IN_CHART = 10
GX_RESULTS_DIR = "gx/results"  # under report_dir: <run_id>.json written by stewardship.expectations



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


# --- the night's data -------------------------------------------------------------------------
GROUPS = (  # how an entry stands tonight (stewardship.tonight), in the order pages show them
    ("new", "New tonight"),
    ("carried", "Carried over"),
    ("resolved", "Resolved since the previous night"),
    ("arrived", "Quarantined tonight, already closed"),
)
GROUP_SHORT = {"new": "new", "carried": "carried over", "resolved": "resolved",
               "arrived": "closed on arrival"}


@dataclass
class RunData:
    run_id: str
    load_runs: pd.DataFrame
    findings: pd.DataFrame  # file and record findings of the runs whose entries are shown
    quarantine: pd.DataFrame  # the night's entries (GROUPS), with `group`, `unit`, `age_days`
    # the entries carried over, counted (data.CARRIED_COLUMNS), with `unit`, `age_days` (oldest)
    carried: pd.DataFrame
    trend_entries: pd.DataFrame  # data.entry_counts of the trend's runs
    flags: pd.DataFrame  # data.flag_counts: (unit, code, deflections)
    trend_runs: list[str]
    trend_loads: pd.DataFrame
    expectations: dict | None
    replay: dict | None = None  # meta.replay's row when the run replayed a file
    night: tonight_.Night | None = None
    contacts: dict = field(default_factory=dict)  # unit code -> stewardship.contacts.Contact
    trend_replays: frozenset = frozenset()  # the trend runs that replayed a file
    # (unit, code) -> the first MAX_FLAG_IDS deflection ids behind the count (data.flagged_ids)
    flag_ids: dict = field(default_factory=dict)
    # which fields' values may be shown (adapters.registry.field_classes(), handed in)
    fields: FieldClasses = NOTHING_PUBLIC


def _groups(night: tonight_.Night) -> pd.Series:
    """Each entry's group tonight (GROUPS), or None for an entry closed before the previous
    night, which the night's pages leave out."""
    e = night.entries
    if e.empty:
        return pd.Series([], dtype=object)
    new, carried, resolved = tonight_._lists(e, night.tonight.run_id)
    arrived = (e["night"] == night.tonight.run_id) & ~new
    group = pd.Series([None] * len(e), index=e.index, dtype=object)
    for mask, name in ((new, "new"), (carried, "carried"), (resolved, "resolved"),
                       (arrived, "arrived")):
        group[mask] = name
    return group


def read_run_data(wh, run_id: str, report_dir: Path, units: dict | None = None,
                  contacts: dict | None = None) -> RunData:
    """Everything a run's pages show. `units`: source -> unit code (a source's own name when
    missing); `contacts`: unit code -> contact (stewardship.contacts)."""
    loads = data.load_runs(wh, run_id)
    known = data.run_ids(wh)
    trend_runs = data.run_ids(wh, up_to=run_id, limit=TREND_RUNS)
    night = tonight_.read_night(wh, run_id) if run_id in known else None
    entries = night.entries.copy() if night is not None else data.quarantine(wh).iloc[0:0]
    started = tonight_.run_started(run_id)

    def age(night_run) -> int:
        then = tonight_.run_started(night_run) if not data.missing(night_run) else None
        return max((started - then).days, 0) if started and then else 0

    if night is not None and not entries.empty:
        entries["group"] = _groups(night)
        entries = entries[entries["group"].notna()]
        entries["age_days"] = [age(r) for r in entries["night"]]
    else:
        entries = entries.assign(group=None, age_days=0)
    units = units or {}
    entries["unit"] = [units.get(s, s) for s in entries["source"]]
    carried = night.carried.copy() if night is not None else \
        pd.DataFrame(columns=list(data.CARRIED_COLUMNS))
    carried["unit"] = [units.get(s, s) for s in carried["source"]]
    carried["age_days"] = [age(r) for r in carried["oldest"]]
    order = {g: i for i, (g, _) in enumerate(GROUPS)}
    entries = entries.assign(_g=entries["group"].map(order)).sort_values(
        ["_g", "source", "file_name", "line"], na_position="first", kind="stable"
    ).drop(columns="_g").reset_index(drop=True)
    # the findings of the entries shown in detail: the night's own, and those of the files of
    # the earlier entries it resolved (not every finding of their runs: one run may be a year)
    found = data.findings_of_entries(wh, run_id, entries, levels=("file", "record"))
    replay = data.replays(wh, [run_id]).to_dict(orient="records")
    # the W-flags counted in the warehouse, and the first ids behind each count: years of
    # flagged deflections are not read out
    flags = data.flag_counts(wh)
    flag_ids = data.flagged_ids(wh, sorted(set(flags["code"])), MAX_FLAG_IDS)
    gx_path = Path(report_dir) / GX_RESULTS_DIR / f"{run_id}.json"
    return RunData(
        run_id=run_id,
        load_runs=loads,
        findings=found,
        quarantine=entries,
        carried=carried,
        trend_entries=data.entry_counts(wh, trend_runs),
        flags=flags,
        flag_ids=flag_ids,
        trend_runs=trend_runs,
        trend_loads=data.load_runs_for(wh, trend_runs),
        expectations=json.loads(gx_path.read_text(encoding="utf-8")) if gx_path.exists() else None,
        replay={k: (None if data.missing(v) else v) for k, v in replay[0].items()}
        if replay
        else None,
        night=night,
        contacts=dict(contacts or {}),
        trend_replays=frozenset(data.replays(wh, trend_runs)["run_id"].astype(str)),
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
    by = f" by {replay['replayed_by']}" if replay.get("replayed_by") else ""
    return f"replay{of} for {what}{by}"


def page_name(source: str) -> str:
    """A source's page under the run's folder (source names are safe file names already;
    anything else in a name from the warehouse becomes `_`)."""
    return "sources/" + re.sub(r"[^A-Za-z0-9_-]", "_", str(source)) + ".html"


# --- the first screen -------------------------------------------------------------------------
def section_tonight(d: RunData) -> str:
    t = d.night.tonight if d.night else None
    if t is None:
        return _render("sections/tonight.html", known=False, run_id=d.run_id)
    entries, carried = d.quarantine, d.carried
    waiting = int(((entries["group"] == "new") & (entries["state_then"] == "reviewed")).sum()) \
        if len(entries) else 0
    waiting += int(carried[carried["state_then"] == "reviewed"]["entries"].sum()) \
        if len(carried) else 0
    arrived = int((entries["group"] == "arrived").sum()) if len(entries) else 0
    return _render(
        "sections/tonight.html",
        known=True,
        t=t,
        verdict_class={"OK": "ok", "needs attention": "attention"}.get(t.verdict, "failed"),
        previous=d.night.previous_run_id,
        waiting=waiting,
        open_now=len(t.new) + len(t.carried) - waiting,
        arrived=arrived,
        failed_sources=d.night.failed_sources,
    )


def section_sources(d: RunData) -> str:
    t = d.night.tonight if d.night else None
    if t is None or not t.sources:
        return _render("sections/sources.html", rows=[], totals=None)
    loads = {r["source"]: r for r in d.load_runs.to_dict(orient="records")}
    units = {**dict(zip(d.carried["source"], d.carried["unit"])),
             **dict(zip(d.quarantine["source"], d.quarantine["unit"]))}
    rows = []
    for s in t.sources:
        lr = loads.get(s.source, {})
        rows.append({
            "source": s.source,
            "href": page_name(s.source),
            "unit": units.get(s.source, ""),
            "status": lr.get("status") or "not in this run",
            "ok": (lr.get("status") or "ok") == "ok",
            "files": [_int(lr.get(k)) for k in ("files_seen", "files_loaded", "files_pending",
                                                "files_duplicate")],
            "records_loaded": s.records_loaded,
            "quarantined": s.records_quarantined,
            "new": s.new,
            "carried": s.carried,
            "resolved": s.resolved,
        })
    totals = {k: sum(r[k] for r in rows)
              for k in ("records_loaded", "quarantined", "new", "carried", "resolved")}
    totals["files"] = [sum(r["files"][i] for r in rows) for i in range(4)]
    return _render("sections/sources.html", rows=rows, totals=totals)


def _entry_codes(entry: dict) -> list[str]:
    return _codes_of(entry.get("codes"))


def _codes_of(codes) -> list[str]:
    """An entry's `codes` cell as a sorted list of codes."""
    return sorted({c.strip() for c in str(codes or "").split(",") if c.strip()},
                  key=_code_order)


def _columns(frame: pd.DataFrame, *names: str):
    """Rows of a few columns as tuples: the night's pages walk every carried-over entry in
    some of their sections, and a whole row as a dict costs ten times as much."""
    return zip(*(frame[n].tolist() for n in names)) if len(frame) else iter(())


def section_codes(d: RunData) -> str:
    """Every rule code of the night's entries: what it means, what to do, whom to ask, and how
    many entries carry it in each group (an entry with two codes counts under both)."""
    counts: dict[str, dict[str, int]] = {}
    units: dict[str, set] = {}
    shown = ((codes, group, unit, 1)
             for codes, group, unit in _columns(d.quarantine, "codes", "group", "unit"))
    carried = ((codes, "carried", unit, n)
               for codes, unit, n in _columns(d.carried, "codes", "unit", "entries"))
    for codes, group, unit, n in (*shown, *carried):
        for c in _codes_of(codes):
            counts.setdefault(c, dict.fromkeys(g for g, _ in GROUPS))
            counts[c][group] = (counts[c][group] or 0) + n
            units.setdefault(c, set()).add(unit)
    rows = []
    for c in sorted(counts, key=_code_order):
        rule = rules_catalog.rule(c)
        rows.append({
            "code": _code(c),
            "action": rule.action if rule else "",
            "effect": rule.effect if rule else "",
            "counts": [(g, counts[c][g] or 0) for g, _ in GROUPS],
            "ask": [_whom(d, u) for u in sorted(units[c])],
        })
    catalogue = [
        {"code": _code(r.code), "effect": r.effect, "action": r.action}
        for r in sorted((rules_catalog.rule(c) for c in rules_catalog.CODES), key=lambda r:
                        _code_order(r.code))
    ]
    return _render("sections/codes.html", rows=rows, catalogue=catalogue,
                   groups=[(g, GROUP_SHORT[g]) for g, _ in GROUPS])


def _whom(d: RunData, unit: str) -> dict:
    c = d.contacts.get(str(unit).upper())
    return {"unit": unit, "contact": c}


def _code_order(code: str) -> tuple[int, str]:
    return ("FSBW".find(code[:1]) if code[:1] in "FSBW" else 9, code)


def carried_summary(carried: pd.DataFrame) -> list[dict]:
    """The carried-over entries (`RunData.carried`, counted in the warehouse) per source, level
    and codes (an entry once, under the codes it carries together), the most numerous first
    within a source: how many, how many of them are waiting on their source (reviewed), and the
    oldest and newest nights that quarantined them. Each was shown in detail on the night it
    was new (that run's report)."""
    rows: dict[tuple, dict] = {}
    for source, unit, level, cell, state, n, oldest, newest, age in _columns(
            carried, "source", "unit", "level", "codes", "state_then", "entries", "oldest",
            "newest", "age_days"):
        codes = tuple(_codes_of(cell))
        key = (source, unit, level, codes)
        oldest, newest = ("" if data.missing(v) else str(v) for v in (oldest, newest))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"source": source, "unit": unit, "level": level,
                               "codes": [_code(c) for c in codes], "entries": 0, "waiting": 0,
                               "oldest": oldest, "newest": newest, "age_days": 0}
        row["entries"] += int(n)
        row["waiting"] += int(n) if state == "reviewed" else 0
        row["oldest"] = min(row["oldest"], oldest)
        row["newest"] = max(row["newest"], newest)
        row["age_days"] = max(row["age_days"], age)
    return sorted(rows.values(), key=lambda x: (x["source"], -x["entries"], x["level"],
                                                [c.code for c in x["codes"]]))


def carried_listing(run_id: str, source: str | None = None) -> dict:
    """How to list every carried-over entry one by one: the steward commands, and the query that
    lists exactly the entries quarantined before the run that are still open or waiting (their
    state now; for the newest night, the carried-over entries)."""
    literal = "" if source is None else str(source).replace("'", "''")
    where = (f"source = '{literal}' AND " if source is not None else "") + \
        f"run_id < '{run_id}' AND state IN ('open', 'reviewed')"
    opt = f" --source {source}" if source is not None else ""
    return {
        "commands": [f"deflect quarantine list{opt} --status open",
                     f"deflect quarantine list{opt} --status reviewed"],
        "query": "SELECT quarantine_id, run_id, source, file_name, record_id, codes, state "
                 f"FROM quality.quarantine WHERE {where} ORDER BY run_id, source, file_name",
    }


def section_quarantine(d: RunData, landing_dir: Path, source: str | None = None) -> str:
    """The night's entries in detail (every entry of `source`, or of every source), one
    block per group: findings, masked excerpts, state now and what to send back."""
    q = d.quarantine if source is None else d.quarantine[d.quarantine["source"] == source]
    carried = d.carried if source is None else d.carried[d.carried["source"] == source]
    # the entries as records once, and the findings grouped by entry once: a report has a
    # page per source, most of them with no entry, and pandas' selections cost more than rows
    # carried-over entries are only counted (carried_summary): not made into records here
    records = q[q["group"] != "carried"].to_dict(orient="records") if len(q) else []
    f = d.findings if source is None else d.findings[d.findings["source"] == source]
    by_entry = _findings_by_entry(f) if records else {}
    blocks = []
    for group, title in GROUPS:
        mine = [r for r in records if r["group"] == group]
        if group == "carried":
            # counted, not detailed: they grow with every night that leaves one open (CARRIED)
            blocks.append({"group": group, "title": title,
                           "total": int(carried["entries"].sum()) if len(carried) else 0,
                           "entries": [], "hidden": 0, "summary": carried_summary(carried),
                           "listing": carried_listing(d.run_id, source)})
            continue
        entries = []
        for entry in mine[:MAX_QUARANTINE_ENTRIES]:
            detail = _quarantine_entry(entry, _entry_findings(entry, by_entry), landing_dir,
                                       d.fields)
            detail.update(
                group=group,
                age_days=entry["age_days"],
                run_id=entry["run_id"],
                state_run_id=None if data.missing(entry.get("state_run_id"))
                else entry["state_run_id"],
                actions=[(c, rules_catalog.rule(c.code).action) for c in detail["codes"]
                         if rules_catalog.rule(c.code)],
            )
            entries.append(detail)
        blocks.append({"group": group, "title": title, "total": len(mine), "entries": entries,
                       "hidden": max(len(mine) - MAX_QUARANTINE_ENTRIES, 0), "summary": None})
    return _render("sections/quarantine.html", blocks=blocks, run_id=d.run_id,
                   total=len(q), source=source)


def _findings_by_entry(f: pd.DataFrame) -> dict[tuple, list[dict]]:
    """The findings (rows of `f`, in their order) under the keys `_entry_findings` looks up:
    (run, source, file, "record", record id) and (run, source, file, "file") for file-level
    ones. Grouped once per page: selecting them from the frame entry by entry cost a few
    milliseconds of pandas per quarantined record, a second or more on a record-heavy night."""
    out: dict[tuple, list[dict]] = {}
    for r in f.to_dict(orient="records"):
        base = (r["run_id"], r["source"], r["file_name"])
        if not data.missing(r["record_id"]):
            out.setdefault((*base, "record", r["record_id"]), []).append(r)
        if r["level"] == "file":
            out.setdefault((*base, "file"), []).append(r)
    return out


def _entry_findings(entry: dict, by_entry: dict[tuple, list[dict]]) -> list[dict]:
    """The findings of one entry: of its record (same run, source, file and record id), or
    for a file entry the file-level findings of its file in its run."""
    base = (entry["run_id"], entry["source"], entry["file_name"])
    if entry.get("level") == "record" and entry.get("record_id") is not None:
        if data.missing(entry["record_id"]):
            return []  # a missing id equals no finding's (as pandas compares it)
        return by_entry.get((*base, "record", entry["record_id"]), [])
    return by_entry.get((*base, "file"), [])


def _quarantine_entry(entry: dict, found: list[dict], landing_dir: Path,
                      fields: FieldClasses = NOTHING_PUBLIC) -> dict:
    """One entry's detail from its findings (`_entry_findings`)."""
    codes = sorted(
        {r["code"] for r in found}
        | set(str(entry.get("codes") or "").replace(" ", "").split(",")) - {""},
        key=_code_order,
    )
    raw = entry_excerpts(landing_dir, entry, found, fields, limit=MAX_EXCERPTS_PER_ENTRY)
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
            for r in found
        ],
        "raw": raw["raw"],
        "excerpts": raw["excerpts"],
    }



def section_flags(d: RunData) -> str:
    fl = d.flags
    if fl.empty:
        return _render("sections/flags.html", empty=True, codes=[], rows=[])
    table = fl.pivot(index="unit", columns="code", values="deflections").fillna(0)
    codes = sorted(table.columns, key=_code_order)
    rows = [
        {
            "unit": unit,
            "counts": [(int(table.loc[unit, c]), "flags.html#" + flag_anchor(unit, c))
                       for c in codes],
            "total": int(table.loc[unit].sum()),
        }
        for unit in sorted(table.index)
    ]
    return _render("sections/flags.html", empty=False, codes=[_code(c) for c in codes],
                   rows=rows)


def flags_page(d: RunData, generated_at: str) -> str:
    """flags.html: per approving unit and flag, the deflection ids behind the count."""
    fl = d.flags
    units = []
    for unit in sorted(fl["unit"].unique()) if not fl.empty else []:
        mine = fl[fl["unit"] == unit]
        units.append({
            "unit": unit,
            "flags": [
                _flag_ids(unit, c, d.flag_ids.get((unit, c), []), int(n))
                for c, n in sorted(zip(mine["code"], mine["deflections"], strict=True),
                                   key=lambda cn: _code_order(cn[0]))
            ],
        })
    return _page("flags.html", run_id=d.run_id, units=units, generated_at=generated_at)


def _flag_ids(unit: str, code: str, ids: list[str], total: int) -> dict:
    """The first MAX_FLAG_IDS deflection ids of a unit's flag (`ids`), how many there are
    (`total`), and the query that lists every one."""
    literal = unit.replace("'", "''")
    return {"code": _code(code), "anchor": flag_anchor(unit, code), "ids": ids[:MAX_FLAG_IDS],
            "total": total, "more": max(total - MAX_FLAG_IDS, 0),
            "query": "SELECT deflection_id FROM reporting.deflection WHERE approving_unit_code "
                     f"= '{literal}' AND ',' || flags || ',' LIKE '%,{code},%' "
                     "ORDER BY deflection_id"}


def flag_anchor(unit: str, code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{unit}-{code}")


def _expectations(d: RunData, report_dir: Path) -> dict:
    """What the expectation section and the run's expectations page show."""
    gx = d.expectations
    if gx is None:
        return {"ran": False}

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
                "anchor": "suite-" + re.sub(r"[^A-Za-z0-9_-]", "_", s["suite"]),
                "href": href(s.get("data_docs_page")),
                "rows": _int(s.get("rows")),
                "checked": _checked(s),
                "skipped": s.get("skipped"),
                # the same rows as at an earlier run's validation: that result, taken over
                "same_as": s.get("same_as"),
                "guaranteed": list(s.get("guaranteed") or []),
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
    return {
        "ran": True,
        "checkpoint": gx.get("checkpoint"),
        "success": gx.get("success"),
        "evaluated": gx.get("evaluated"),
        "failed": gx.get("failed"),
        "validated_at": gx.get("validated_at"),
        "docs_href": href(gx.get("data_docs_index")),
        "suites": suites,
        "failures": failures,
        "expectations": expectations,
    }


def _checked(suite: dict) -> str:
    """Which rows a suite's result covers, in words (stewardship.expectations' scopes)."""
    scope, table_rows = suite.get("scope"), suite.get("table_rows")
    if scope == "changed":
        return f"the rows tonight's refresh changed, of {_int(table_rows):,} in the view"
    if scope == "run":
        return f"this run's rows, of {_int(table_rows):,} in the view"
    if scope == "batches":
        parts = _int(suite.get("parts")) or 1
        return "every row tonight's batches brought" + (
            f", in {parts} parts of whole batches" if parts > 1 else "")
    return "every row" if scope == "all" else ""


def section_expectations(d: RunData, report_dir: Path) -> str:
    return _render("sections/expectations.html", **_expectations(d, report_dir))


def expectations_page(d: RunData, report_dir: Path, generated_at: str) -> str:
    """expectations.html: every suite's results of the run, rendered here so that they read
    offline (GX's own Data Docs fetch their scripts, styles and icons from CDNs: without the
    network their index is empty and their status icons blank)."""
    return _page("expectations.html", x=_expectations(d, report_dir),
                 **_header(d, generated_at))



TOP_SOURCES_IN_CHART = 6  # the rest of the sources as "other"


def _night_labels(d: RunData) -> list[str]:
    """The x axis in nights: each run's as-of date (a replay keeps the as-of of the night it
    corrects, so two bars can share a date; the replay's is hatched and says so)."""
    tl = d.trend_loads
    as_of = {}
    if not tl.empty:
        for r in tl.to_dict(orient="records"):
            if not data.missing(r["as_of"]):
                as_of[r["run_id"]] = str(pd.Timestamp(r["as_of"]).date())
    return [as_of.get(r, _run_label(r)) for r in d.trend_runs]


def _run_label(run_id: str) -> str:
    """'20261126T214615Z-ab12cd34' -> '11-26 21:46'; other ids as they are, shortened."""
    try:
        stamp = dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ")
        return stamp.strftime("%m-%d %H:%M")
    except ValueError:
        return run_id[:14]


def section_trends(d: RunData) -> str:
    labels = _night_labels(d)
    index = {r: i for i, r in enumerate(d.trend_runs)}
    marked = {index[r] for r in d.trend_replays if r in index}
    # entries quarantined each night, by rule code, whatever their state now (counted in the
    # warehouse: data.entry_counts)
    by_code: dict[str, list[float]] = {}
    new_by_source: dict[str, list[float]] = {}
    for night, cell, source, n in _columns(d.trend_entries, "run_id", "codes", "source",
                                           "entries"):
        if night not in index:
            continue
        for c in _codes_of(cell):
            by_code.setdefault(c, [0.0] * len(labels))[index[night]] += n
        new_by_source.setdefault(source, [0.0] * len(labels))[index[night]] += n
    codes = dict(sorted(by_code.items(), key=lambda kv: _code_order(kv[0])))
    chart1 = Markup(charts.stacked_bars(
        labels, charts.top_series(codes, TOP_CODES_IN_CHART),
        "Entries quarantined each night, by rule code", marked=marked))
    tl = d.trend_loads
    sources = sorted(tl["source"].unique().tolist()) if not tl.empty else []
    loaded = {s: [0.0] * len(labels) for s in sources}
    for r in tl.to_dict(orient="records"):
        loaded[r["source"]][index[r["run_id"]]] += _int(r["records_loaded"])
    # charts.stacked_bars writes its SVG itself and escapes every label, name and title in it.
    chart2 = Markup(charts.stacked_bars(
        labels, charts.top_series(loaded, TOP_SOURCES_IN_CHART),
        "Records loaded each night, by source", marked=marked))
    chart3 = Markup(charts.stacked_bars(
        labels, charts.top_series(dict(sorted(new_by_source.items())), TOP_SOURCES_IN_CHART),
        "Entries quarantined each night, by source", marked=marked))
    return _render("sections/trends.html", charts=[chart1, chart2, chart3])


# --- pages ------------------------------------------------------------------------------------
SECTIONS = (
    ("tonight", "Is tonight OK?"),
    ("sources", "Sources"),
    ("codes", "Entries by rule code"),
    ("flags", "W-flags by approving unit"),
    ("expectations", "Expectations"),
    ("trends", "Trends"),
)


def _header(d: RunData, generated_at: str) -> dict:
    as_of = d.load_runs["as_of"].iloc[0] if not d.load_runs.empty else None
    failed = (
        d.load_runs[d.load_runs["status"] != "ok"]["source"].tolist()
        if not d.load_runs.empty
        else []
    )
    return {"run_id": d.run_id, "as_of": as_of, "replay": replay_label(d.replay),
            "failed_sources": failed, "generated_at": generated_at}


def render_run_page(d: RunData, landing_dir: Path, report_dir: Path, generated_at: str) -> str:
    # Each body is the output of an autoescaped section template.
    bodies = {
        "tonight": section_tonight(d),
        "sources": section_sources(d),
        "codes": section_codes(d),
        "flags": section_flags(d),
        "expectations": section_expectations(d, report_dir),
        "trends": section_trends(d),
    }
    return _page("run.html", sections=SECTIONS, bodies=bodies, **_header(d, generated_at))


ENTRIES_CSV_COLUMNS = ("quarantine_id", "group", "state", "unit", "source", "file_name",
                       "record_id", "line", "codes", "age_days")


def _shown(q: pd.DataFrame) -> pd.DataFrame:
    """The entries entries.html lists: all but the carried-over ones (counted instead, CARRIED)."""
    return q[q["group"] != "carried"] if len(q) else q


def _listed(shown: pd.DataFrame) -> pd.DataFrame:
    """The first MAX_ENTRIES_LISTED entries of each group, in the page's order."""
    if not len(shown):
        return shown
    return shown[shown.groupby("group", sort=False).cumcount() < MAX_ENTRIES_LISTED]


def entries_page(d: RunData, generated_at: str) -> str:
    """entries.html: the night's entries in one table, filtered by unit, code, group, state, age
    and file (a few lines of inline script; without it every row shows). At most
    MAX_ENTRIES_LISTED a group are rows of the page; every one is in entries.csv."""
    shown = _shown(d.quarantine)
    rows = []
    for qid, group, state, unit, source, file_name, record_id, line, codes, age in _columns(
            _listed(shown), *ENTRIES_CSV_COLUMNS):
        rows.append({
            "id": qid,
            "href": f"{page_name(source)}#q-{qid}",
            "group": group,
            "state": state,
            "unit": unit,
            "source": source,
            "file_name": file_name,
            "record_id": None if data.missing(record_id) else record_id,
            "line": _int(line) or "",
            "codes": [_code(c) for c in _codes_of(codes)],
            "age_days": age,
        })
    q = d.quarantine
    counts = {g: int((q["group"] == g).sum()) for g, _ in GROUPS}
    counts["carried"] = int(d.carried["entries"].sum()) if len(d.carried) else 0
    options = {
        "unit": sorted({str(r["unit"]) for r in rows}),
        "code": sorted({c for r in rows for c in (x.code for x in r["codes"])}, key=_code_order),
        "state": sorted({str(r["state"]) for r in rows}),
    }
    return _page("entries.html", rows=rows, groups=GROUPS, options=options, counts=counts,
                 unlisted={g: max(0, counts[g] - MAX_ENTRIES_LISTED) for g, _ in GROUPS},
                 listed_max=MAX_ENTRIES_LISTED, csv_name=ENTRIES_CSV,
                 carried=carried_summary(d.carried), listing=carried_listing(d.run_id),
                 **_header(d, generated_at))


def write_entries_csv(d: RunData, path: Path) -> None:
    """entries.csv: every entry entries.html shows or counts past its cap, one row each, in the
    page's order (a spreadsheet for a night of thousands, such as a first backfill)."""
    import csv

    shown = _shown(d.quarantine)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(ENTRIES_CSV_COLUMNS)
        for row in _columns(shown, *ENTRIES_CSV_COLUMNS):
            w.writerow(["" if data.missing(v) else _int(v) if k == "line" else v
                        for k, v in zip(ENTRIES_CSV_COLUMNS, row, strict=True)])
    tmp.replace(path)


def source_page(d: RunData, source: str, landing_dir: Path, generated_at: str) -> str:
    """sources/<source>.html: one source's (one unit's) entries of the night in detail, whom
    to ask and what to send back."""
    mine = d.quarantine[d.quarantine["source"] == source]
    carried = d.carried[d.carried["source"] == source]
    t = next((s for s in d.night.tonight.sources if s.source == source), None) if d.night \
        else None
    unit = str(mine["unit"].iloc[0]) if len(mine) else \
        str(carried["unit"].iloc[0]) if len(carried) else source
    cells = [cell for frame in (mine, carried) for (cell,) in _columns(frame, "codes")]
    codes = sorted({c for cell in cells for c in _codes_of(cell)}, key=_code_order)
    quarantined_tonight = mine[(mine["night"] == d.run_id) & (mine["level"] == "record")] \
        if "night" in mine else mine.iloc[0:0]
    return _page(
        "source.html",
        source=source,
        unit=unit,
        contact=d.contacts.get(unit.upper()),
        figures=t,
        send_back=[(_code(c), rules_catalog.rule(c).action) for c in codes
                   if rules_catalog.rule(c)],
        quarantined_tonight=list(quarantined_tonight["quarantine_id"][:MAX_ENTRIES_LISTED]),
        quarantined_tonight_count=len(quarantined_tonight),
        body=section_quarantine(d, landing_dir, source=source),
        **_header(d, generated_at),
    )


# Source pages are rendered in forked processes when the night details at least this many
# entries: each entry's masked excerpts cost about a millisecond (a record-heavy night: 1,300
# entries, 1.4 s of the report), and the cores are otherwise idle while the report is written.
# Not when the night's frames hold more rows than PARALLEL_PAGES_MAX_ROWS: each worker copies
# the rows it reads, and a backfill night's 148,000 entries made the workers' memory add up to
# more than the report's (1.6 GB for the process tree against 0.9 GB one page at a time).
PARALLEL_PAGES_MIN_ENTRIES = 200
PARALLEL_PAGES_MAX_ROWS = 50_000
_PAGES: tuple | None = None  # (d, landing, generated) of the pages being rendered, for workers


def _render_source_page(source: str) -> str:
    d, landing, generated = _PAGES
    return source_page(d, source, landing, generated)


def source_pages(d: RunData, sources: list[str], landing_dir: Path, generated_at: str):
    """(source, page) for each source, in order: the same pages as `source_page` one after
    another, on several cores when there are many entries (PARALLEL_PAGES_MIN_ENTRIES)."""
    global _PAGES
    detailed = int((d.quarantine["group"] != "carried").sum()) if len(d.quarantine) else 0
    workers = min(os.cpu_count() or 1, 4, len(sources))
    rows = len(d.quarantine) + len(d.findings)
    if workers < 2 or detailed < PARALLEL_PAGES_MIN_ENTRIES or rows > PARALLEL_PAGES_MAX_ROWS:
        for source in sources:
            yield source, source_page(d, source, landing_dir, generated_at)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from deflect.core.processes import die_with_parent

    # the workers are forked with the run's data in memory (nothing is pickled but the pages);
    # the largest pages start first
    sizes = d.quarantine["source"].value_counts()
    order = sorted(sources, key=lambda s: -int(sizes.get(s, 0)))
    _PAGES = (d, landing_dir, generated_at)
    # the parent's objects out of the workers' garbage collections: a collection writes to
    # every object it walks, which would copy the whole inherited heap into each worker
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=die_with_parent) as pool:
            pages = dict(zip(order, pool.map(_render_source_page, order), strict=True))
    finally:
        gc.unfreeze()
        _PAGES = None
    for source in sources:
        yield source, pages[source]


def _summary(d: RunData) -> dict:
    lr = d.load_runs
    t = d.night.tonight if d.night else None
    return {
        "run_id": d.run_id,
        "as_of": str(lr["as_of"].iloc[0]) if not lr.empty else None,
        "sources": len(lr),
        "failed_sources": sorted(lr[lr["status"] != "ok"]["source"].tolist())
        if not lr.empty
        else [],
        "verdict": t.verdict if t else None,
        "new": len(t.new) if t else 0,
        "carried": len(t.carried) if t else 0,
        "resolved": len(t.resolved) if t else 0,
        "todo": list(t.todo) if t else [],
        "records_loaded": int(sum(_int(v) for v in lr["records_loaded"])) if not lr.empty else 0,
        "records_quarantined": sum(s.records_quarantined for s in t.sources) if t else 0,
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
                "verdict": r.get("verdict"),
                "new": r.get("new", 0),
                "carried": r.get("carried", 0),
                "resolved": r.get("resolved", 0),
                "records_loaded": r.get("records_loaded", 0),
                "records_quarantined": r.get("records_quarantined", 0),
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
    """Write the run's pages under report_dir/<run_id>/ (index.html, entries.html, flags.html,
    expectations.html, sources/<source>.html, report.json) and refresh report_dir/index.html.
    `fields`: which fields' values may be shown (without it, no value is)."""
    from stewardship.contacts import contacts_of, unit_of
    from stewardship.template_cache import bytecode_cache

    report_dir = Path(config.report_dir)
    # compiled once, not every night (stewardship/template_cache.py)
    _environment().bytecode_cache = bytecode_cache(config)
    contacts = contacts_of(config)
    with data.open_warehouse(config) as wh:
        # a source that is not configured is its own unit (unit_of), which read_run_data's
        # default gives: every source ever quarantined need not be read to name the units
        units = {s.name: unit_of(config, s.name) for s in config.sources}
        d = read_run_data(wh, run_id, report_dir, units=units, contacts=contacts)
    d.fields = fields
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    landing = Path(config.landing_dir)
    folder = report_dir / run_id
    out = folder / "index.html"
    _write_atomic(out, render_run_page(d, landing, report_dir, generated))
    _write_atomic(folder / "entries.html", entries_page(d, generated))
    write_entries_csv(d, folder / ENTRIES_CSV)
    _write_atomic(folder / "flags.html", flags_page(d, generated))
    _write_atomic(folder / "expectations.html", expectations_page(d, report_dir, generated))
    shown = set(d.quarantine["source"]) | {s.source for s in
                                           (d.night.tonight.sources if d.night else [])}
    for source, page in source_pages(d, sorted(shown), landing, generated):
        _write_atomic(folder / page_name(source), page)
    _write_atomic(folder / "report.json", json.dumps(_summary(d), indent=2, default=str))
    write_index(report_dir)
    return out
