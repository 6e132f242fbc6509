"""Great Expectations (GX Core 1.x, called directly) suites over each load.

Two kinds of suite:
- canonical rows: the CSV files the run's batches wrote (ingestion/canonical.py), i.e. exactly
  what this load brought in, before the warehouse merges it;
- the `reporting` views (reporting-contract.md), as they stand after the run's refresh: of
  reporting.deflection only the rows the run's refresh changed (`Suite.changed_only`), of
  reporting.load_run the run's; a suite with no row to check is recorded as skipped, and one
  whose rows and expectations are those of its last validation takes that result over
  (`same_as`: the same rows under the same expectations give the same result).

They check completeness (not null), value sets from the pick lists (deflect.core.vocab), formats and
ranges, uniqueness of identities, and referential integrity of the approving unit to the unit
reference. Every validation result is kept as JSON under report_dir/gx/uncommitted/validations/
(the suites and validation definitions are built from this module at every run and live in
memory); the Data Docs site is built to report_dir/data_docs/ and linked from the report. A summary for the report is written to
report_dir/gx/results/<run_id>.json.

Nothing personal reaches GX: only coded columns, identities, dates and ages are handed over, and
the person key is replaced by a well-formedness flag (a malformed key could be anything). In the
report's unexpected rows a person key is shown truncated.

GX is imported lazily (importing it takes seconds and logs a lot).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import logging
import multiprocessing
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from deflect.core import vocab
from deflect.core.expectations import (
    AGE_RANGE,
    Exp,
    Suite,
    at_least,
    between,
    in_set,
    matches,
    not_null,
    person_key_ok,
    unique,
)
from deflect.core.processes import die_with_parent
from deflect.core.units import load_units, unit_codes
from stewardship import data
from stewardship.template_cache import bytecode_cache, gx_views_cached

log = logging.getLogger(__name__)

SITE_NAME = "deflect"
DATASOURCE = "deflect"
DATA_DOCS_DIR = "data_docs"  # under report_dir
RESULTS_DIR = "gx/results"  # under report_dir
# every validation result GX keeps, as JSON (where a GX file context keeps them, so the results
# of runs before the context became ephemeral stay listed in the Data Docs index)
VALIDATIONS_DIR = "gx/uncommitted/validations"  # under report_dir
UNEXPECTED_ROWS_SHOWN = 20
PERSON_KEY = re.compile(r"^[0-9a-f]{64}$")

SOURCES_VALUES = ("TRACS", "MEG", "TRACS+MEG")
# What the suite over the night's rows of reporting.deflection cannot see, and why it holds.
DEFLECTION_ID_UNIQUE = ("deflection_id is unique over the whole view: it is the primary key of "
                        "marts.fct_deflection, of which reporting.deflection is a row-for-row "
                        "projection")
# Results the Data Docs index lists, newest first (about two nights of every suite): GX reads
# each listed result again to build it, so a whole history would cost more every night. Every
# result stays kept, and each run's report links its own pages.
INDEX_RESULTS = 30
# Which suite pages of the Data Docs were rendered from which definition (under report_dir):
# a suite's page is rendered again only when its definition changed or the page is missing.
SUITE_PAGES = "gx/suite_pages.json"
# the last result of each reporting suite, with a digest of the rows it checked (_frame_digest)
LAST_RESULTS = "gx/last_results.json"
SKIPPED_NO_ROWS = "no rows to check tonight"
LOAD_STATUSES = ("ok", "failed")


def build_suites(units: list[str], canonical: tuple[Suite, ...] = ()) -> list[Suite]:
    """Every suite: `canonical`, those the adapters declare on their canonical tables, then the
    reporting views'; `units` are the reference's unit codes (referential integrity)."""
    attributed = list(units) + [vocab.UNATTRIBUTED]
    pk = person_key_ok()
    return [
        *canonical,
        Suite(
            "reporting_deflection",
            "reporting",
            "reporting.deflection",
            ("deflection_id",),
            (
                *not_null(
                    "deflection_id",
                    "referral_date",
                    "referral_quarter",
                    "pathway",
                    "approving_unit_code",
                    "sources",
                    "outcome",
                    "evaluated_within_90_days",
                    "flags",
                ),
                matches("deflection_id", r"^D[0-9a-f]{24}$"),
                in_set("approving_unit_code", attributed),
                in_set("pathway", vocab.PATHWAYS),
                in_set("originating_agency_type", vocab.ORIGINATING_AGENCY_TYPES),
                in_set("sources", SOURCES_VALUES),
                in_set("outcome", vocab.OUTCOMES),
                in_set("sex", vocab.SEX_CODES),
                in_set("race", vocab.RACE_CODES),
                in_set("ethnicity", vocab.ETHNICITY_CODES),
                matches("referral_quarter", r"^[0-9]{4}-Q[1-4]$"),
                matches("county_fips", r"^[0-9]{5}$"),
                matches("flags", r"^(?:W[0-9]{2}(?:,W[0-9]{2})*)?$"),
                between("age_at_referral", *AGE_RANGE),
                *pk,
            ),
            numeric=("age_at_referral",),
            person_key=True,
            # Row by row, only what tonight's refresh inserted or changed: a row no refresh
            # touched since it was checked is still the row that met the suite then.
            changed_only=True,
            guaranteed=(DEFLECTION_ID_UNIQUE,),
        ),
        Suite(
            "reporting_deflection_counts",
            "reporting",
            "reporting.deflection_counts",
            ("approving_unit_code", "referral_quarter", "pathway"),
            (
                *not_null("approving_unit_code", "referral_quarter", "pathway", "deflections"),
                unique("approving_unit_code", "referral_quarter", "pathway"),
                in_set("approving_unit_code", attributed),
                in_set("pathway", vocab.PATHWAYS),
                between("deflections", 1),
            ),
            numeric=("deflections",),
        ),
        Suite(
            "reporting_followup_compliance",
            "reporting",
            "reporting.followup_compliance",
            ("approving_unit_code", "referral_quarter"),
            (
                *not_null("approving_unit_code", "referral_quarter", "referrals", "due"),
                unique("approving_unit_code", "referral_quarter"),
                in_set("approving_unit_code", attributed),
                between("pct_evaluated_within_90_days", 0, 100),
                at_least("referrals", "due"),
                at_least("due", "evaluated_within_90_days"),
                at_least("due", "overdue"),
            ),
            numeric=(
                "referrals",
                "due",
                "evaluated_within_90_days",
                "overdue",
                "pct_evaluated_within_90_days",
            ),
        ),
        Suite(
            "reporting_load_run",
            "reporting",
            "reporting.load_run",
            ("run_id", "source"),
            (
                *not_null("run_id", "source", "status"),
                unique("run_id", "source"),
                in_set("status", LOAD_STATUSES),
                *[between(c, 0) for c in data.LOAD_RUN_COUNTS],
            ),
            numeric=data.LOAD_RUN_COUNTS,
            filter_run=True,
        ),
    ]


# --- frames ----------------------------------------------------------------------------------
# The canonical suites read the run's batch files a part at a time, so that what they hold in
# memory depends on the part and not on the run (a year's backfill brings millions of rows). A
# part is consecutive whole batches of at most this many bytes of CSV (one larger batch alone).
# Every uniqueness a canonical suite checks includes file_sha256, and a file's rows are all in
# one batch (ingestion/batch.py appends an accepted file's rows whole), so the parts find exactly
# the duplicates that one frame of the whole run would; `_parts_agree` says so for a suite.
CANONICAL_PART_BYTES = 32 * 1024 * 1024
# how much lower the background process checking the canonical suites runs (os.nice)
CANONICAL_NICENESS = 10
UNIQUENESS = ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique")


@dataclass(frozen=True)
class CanonicalParts:
    """A canonical suite's rows of this run: batch CSV files, grouped into parts."""

    suite: Suite
    parts: tuple[tuple[Path, ...], ...]

    def frames(self):
        """Each part's rows, prepared for the suite, one part in memory at a time."""
        wanted = set(self.suite.columns) | ({"person_key"} if self.suite.person_key else set())
        for paths in self.parts:
            yield prepare(self.suite, _read_csvs(paths, wanted))


def _read_csvs(paths, wanted: set[str] | None = None) -> pd.DataFrame:
    """The rows of some batch CSV files of one table, as text; only the `wanted` columns."""
    usecols = (lambda c: c in wanted) if wanted is not None else None
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], usecols=usecols)
              for p in paths]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _parts_agree(suite: Suite) -> bool:
    """Whether validating the suite part by part gives what one frame would: its checks are
    per row, but for uniqueness, which must then hold within a file."""
    return all("file_sha256" in x.columns for x in suite.expectations if x.kind in UNIQUENESS)


def canonical_parts(run_dir: Path, suite: Suite,
                    part_bytes: int | None = None) -> CanonicalParts | None:
    """The suite's table in every batch of the run, in parts; None when no batch has a row."""
    budget = CANONICAL_PART_BYTES if part_bytes is None else part_bytes
    if not _parts_agree(suite):
        budget = None  # one part: a uniqueness across files needs every row at once
    parts: list[list[Path]] = []
    size = 0
    for path in sorted(Path(run_dir).glob(f"batches/*/{suite.table}.csv")):
        if not _has_rows(path):
            continue
        n = path.stat().st_size
        if not parts or (budget is not None and size + n > budget):
            parts.append([])
            size = 0
        parts[-1].append(path)
        size += n
    return CanonicalParts(suite, tuple(tuple(p) for p in parts)) if parts else None


def prepare(suite: Suite, frame: pd.DataFrame) -> pd.DataFrame:
    """Only the columns the suite checks, person key replaced, numbers as numbers."""
    frame = frame.copy()
    if suite.person_key:
        keys = frame["person_key"] if "person_key" in frame else pd.Series([None] * len(frame))
        frame["person_key_well_formed"] = [
            True if data.missing(k) else bool(PERSON_KEY.match(str(k))) for k in keys
        ]
    for c in suite.columns:
        if c not in frame:
            frame[c] = None  # a missing column fails its not-null expectation, visibly
    frame = frame[suite.columns]
    for c in suite.numeric:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in frame.columns:
        if c not in suite.numeric and c != "person_key_well_formed":
            frame[c] = _text_or_none(frame[c])
    return frame.reset_index(drop=True)


def _text_or_none(col: pd.Series) -> pd.Series:
    """Each value as text, missing ones missing (object dtype). A column of pandas' string
    dtype (the canonical CSVs are read as text) holds only text or missing values, and
    mapping it gives the same column back: converted without a Python call per row, which
    cost most of the preparation on a record-heavy night."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.astype(object)
    return col.map(lambda v: None if data.missing(v) else str(v)).astype(object)


def _scope(suite: Suite) -> str:
    """Which rows a suite checks: "batches" (canonical), "changed", "run" or "all"."""
    if suite.origin == "canonical":
        return "batches"
    return "changed" if suite.changed_only else "run" if suite.filter_run else "all"


def frames_for_run(config, run_id: str, suites: list[Suite],
                   scopes: dict[str, dict] | None = None
                   ) -> dict[str, pd.DataFrame | CanonicalParts]:
    """The rows each suite checks in this run (canonical: its batch files, read part by part
    when validated; reporting: the rows of its view the suite covers, read in SQL). `scopes`,
    when given, receives what each
    reporting suite covered: {"scope": "all" | "run" | "changed", "table_rows": rows of the
    view} (the report says what was checked)."""
    from deflect.core.runs import run_dir

    frames: dict[str, pd.DataFrame] = {}
    rdir = run_dir(config, run_id)
    for s in suites:
        if s.origin == "canonical":
            parts = canonical_parts(rdir, s)
            if parts is not None:
                frames[s.name] = parts
    if not any(s.origin == "reporting" for s in suites):
        return frames  # the warehouse is not opened at all
    with data.open_warehouse(config) as wh:
        for s in suites:
            if s.origin != "reporting":
                continue
            f = data.reporting_view(wh, s.table, run_id=run_id if s.filter_run else None,
                                    changed_in=run_id if s.changed_only else None)
            frames[s.name] = prepare(s, f)
            if scopes is not None:
                scope = _scope(s)
                scopes[s.name] = {"scope": scope,
                                  "table_rows": data.reporting_rows(wh, s.table)
                                  if scope != "all" else len(f)}
    return frames


# --- running ---------------------------------------------------------------------------------
def _quiet_gx() -> None:
    """Before Great Expectations is imported: no analytics, quieter loggers, and `scipy.stats`
    left unloaded until something uses it."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no network calls from a nightly job
    defer_scipy_stats()
    for name in (
        "great_expectations",
        "great_expectations.core",
        "great_expectations.data_context",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)


def defer_scipy_stats() -> None:
    """Make `scipy.stats` a module that loads when first used, not when imported.

    Great Expectations imports it at the top of two expectations' and a metric's modules that
    the suites never use (`from scipy import stats`), and loading it was a fifth of GX's import:
    0.4-0.6 s of CPU in every run, spent while the batches keep both cores busy
    (docs/performance.md). The lazy module is set as the package's attribute as well: `from
    scipy import stats` then takes it as it is, where asking the import system for it would load
    it (Python 3.11 reads the module's __spec__, which a lazy module answers by loading)."""
    if "scipy.stats" in sys.modules:
        return
    import scipy

    spec = importlib.util.find_spec("scipy.stats")
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scipy.stats"] = module
    spec.loader.exec_module(module)
    scipy.stats = module


def warm_up() -> None:
    """Import GX ahead of need: it takes seconds, which `deflect run` spends while its batches are
    processed in worker processes rather than after the refresh."""
    _quiet_gx()
    import great_expectations
    import great_expectations.expectations  # noqa: F401


def _store(class_name: str, directory: Path | None = None) -> dict:
    backend = ({"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)}
               if directory else {"class_name": "InMemoryStoreBackend"})
    return {"class_name": class_name, "store_backend": backend}


def _context(report_dir: Path):
    """An ephemeral GX context whose validation results and Data Docs are files under report_dir.

    The suites, validation definitions and checkpoints are built from code at every run, so they
    are kept in memory: a file context saved each to JSON, compared it with the stored copy at
    every add_or_update and re-read its YAML configuration at every variable lookup, which
    together took a third of the publish step (docs/performance.md)."""
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    config = DataContextConfig(
        stores={
            "expectations_store": _store("ExpectationsStore"),
            "validation_definition_store": _store("ValidationDefinitionStore"),
            "checkpoint_store": _store("CheckpointStore"),
            "validation_results_store": _store("ValidationResultsStore",
                                               report_dir / VALIDATIONS_DIR),
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={
            SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(report_dir / DATA_DOCS_DIR),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                                       "validation_results_limit": INDEX_RESULTS},
            },
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _gx_suite(gx, suite: Suite):
    import great_expectations.expectations as gxe

    expectations = []
    for i, x in enumerate(suite.expectations):
        kwargs = {k: v for k, v in x.kwargs.items() if v is not None}
        # meta carries the position so results map back to our spec whatever order GX returns
        expectations.append(getattr(gxe, x.kind)(**kwargs, meta={"position": i}))
    # All at once: add_expectation on a suite would save the whole suite to the store after
    # every expectation (most of the publish step's time, in profiles).
    return gx.ExpectationSuite(name=suite.name, expectations=expectations)


def display_value(column: str, value):
    """A value as the report shows it: person keys truncated, NaN blank."""
    if data.missing(value):
        return None
    if column == "person_key" and isinstance(value, str):
        return value[:12] + "…"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, (int, float, bool)) else str(value)


def _unexpected_rows(suite: Suite, x: Exp, frame: pd.DataFrame, result: dict) -> list[dict]:
    index = result.get("partial_unexpected_index_list") or result.get("unexpected_index_list") or []
    cols = list(dict.fromkeys(list(suite.id_columns) + x.columns))
    rows = []
    for i in index[:UNEXPECTED_ROWS_SHOWN]:
        if isinstance(i, dict):  # when GX reports id columns instead of positions
            rows.append({c: display_value(c, i.get(c)) for c in cols})
        elif isinstance(i, (int,)) and 0 <= i < len(frame):
            rows.append({c: display_value(c, frame.iloc[i][c]) for c in cols})
    return rows


def _docs_page(ctx, key, report_dir: Path) -> str | None:
    """The Data Docs page of one validation result, relative to report_dir (None if unbuilt)."""
    from urllib.parse import unquote, urlparse

    for site in ctx.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME):
        url = site.get("site_url")
        if url and url.startswith("file://"):
            path = Path(unquote(urlparse(url).path))
            if path.exists():
                return path.relative_to(report_dir).as_posix()
    return None


def _validate(ctx, suites: list[Suite], frames: dict[str, pd.DataFrame | CanonicalParts],
              run_id: str, run_time: dt.datetime) -> list[dict]:
    """Each suite with rows in `frames`: one summary entry, GX's keys of its results under
    "result_keys" (none for a suite skipped because its frame has no rows: recorded, not run).

    A canonical suite's rows come in parts (`CanonicalParts`): each part is one GX validation,
    its result kept under the run name "<run_id>-part-<k>-of-<n>" when there are several, and
    the suite's entry sums them ("parts": n).

    One pass over every suite's validation definition, without a checkpoint object per suite:
    a checkpoint hands the same batch parameters to all its definitions, so with a dataframe
    per suite it was one checkpoint each, whose own bookkeeping (storing it, checking it is
    saved) cost as much as a small suite's validation."""
    import great_expectations as gx

    datasource = (ctx.data_sources.all().get(DATASOURCE)
                  or ctx.data_sources.add_pandas(DATASOURCE))
    entries = []
    for suite in suites:
        rows = frames.get(suite.name)
        if rows is None:
            continue  # nothing of this table in this run
        # a fresh context: everything is added, never compared with an earlier run's copy;
        # a skipped suite too, so that its Data Docs page stays listed
        gx_suite = ctx.suites.add(_gx_suite(gx, suite))
        if isinstance(rows, CanonicalParts):
            n, parts = len(rows.parts), rows.frames()
        elif len(rows):
            n, parts = 1, iter([rows])
        else:
            entries.append({"suite": suite.name, "result_keys": [], "rows": 0,
                            "success": True, "skipped": SKIPPED_NO_ROWS, "expectations": []})
            continue
        asset = datasource.add_dataframe_asset(suite.name)
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
        vd = ctx.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch_def, suite=gx_suite)
        )
        done = []
        for k, frame in enumerate(parts, start=1):
            name = run_id if n == 1 else f"{run_id}-part-{k}-of-{n}"
            done.append(_validate_part(gx, vd, suite, frame, name, run_time))
            del frame  # one part in memory at a time
        entries.append(_merge_parts(done) if n > 1 else done[0])
    return entries


def _validate_part(gx, vd, suite: Suite, frame: pd.DataFrame, run_name: str,
                   run_time: dt.datetime) -> dict:
    """One validation of `frame` against the suite; its summary entry (with the row values of
    its first unexpected rows: the frame is not kept)."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    gx_run_id = gx.RunIdentifier(run_name=run_name, run_time=run_time)
    result_format = {"result_format": "SUMMARY",
                     "partial_unexpected_count": UNEXPECTED_ROWS_SHOWN}
    # run() keeps the result in the validation results store, as a checkpoint would
    vr = vd.run(batch_parameters={"dataframe": frame}, result_format=result_format,
                run_id=gx_run_id)
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
        run_id=gx_run_id, batch_identifier=vr.batch_id)
    entry = {
        "suite": suite.name,
        "result_keys": [key],
        "rows": len(frame),
        "success": bool(vr.success),
        "expectations": [],
    }
    for r in sorted(vr.results, key=lambda r: r.expectation_config.meta["position"]):
        x = suite.expectations[r.expectation_config.meta["position"]]
        res = r.result or {}
        entry["expectations"].append(
            {
                "expectation": r.expectation_config.type,
                "columns": x.columns,
                "success": bool(r.success),
                "unexpected_count": _plain(res.get("unexpected_count")),
                "element_count": _plain(res.get("element_count", len(frame))),
                "unexpected_rows": []
                if r.success
                else _unexpected_rows(suite, x, frame, res),
                "error": (r.exception_info or {}).get("exception_message")
                if isinstance(r.exception_info, dict)
                and r.exception_info.get("raised_exception")
                else None,
            }
        )
    return entry


def _total(values):
    """The sum of the parts' counts; None when no part gave one."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _merge_parts(parts: list[dict]) -> dict:
    """One suite's entry from its parts' entries: counts summed, the first unexpected rows in
    the order of the parts (as one frame of the whole run would list them), the first error."""
    merged = {
        "suite": parts[0]["suite"],
        "result_keys": [k for p in parts for k in p["result_keys"]],
        "rows": sum(p["rows"] for p in parts),
        "success": all(p["success"] for p in parts),
        "parts": len(parts),
        "expectations": [],
    }
    for checks in zip(*(p["expectations"] for p in parts), strict=True):
        rows = [r for c in checks for r in c["unexpected_rows"]][:UNEXPECTED_ROWS_SHOWN]
        merged["expectations"].append({
            "expectation": checks[0]["expectation"],
            "columns": checks[0]["columns"],
            "success": all(c["success"] for c in checks),
            "unexpected_count": _total(c["unexpected_count"] for c in checks),
            "element_count": _total(c["element_count"] for c in checks),
            "unexpected_rows": rows,
            "error": next((c["error"] for c in checks if c["error"]), None),
        })
    return merged


def _plain(value):
    """A number from GX (numpy or Python) as a plain Python value, so it survives JSON."""
    return value.item() if hasattr(value, "item") else value


@dataclass
class InBackground:
    """The canonical suites validating in a forked process (`start_canonical`)."""

    process: multiprocessing.process.BaseProcess
    out: Path  # the entries, as JSON, once the process has succeeded
    run_time: dt.datetime
    suites: tuple[str, ...]

    def _wait(self) -> int:
        self.process.join()
        return self.process.exitcode

    @property
    def status(self) -> int | None:
        """The process's exit code once it has ended (0: its results are in `out`)."""
        return self.process.exitcode

    def entries(self) -> list[dict] | None:
        """Wait for the process; its summary entries, or None when it did not succeed."""
        from great_expectations.data_context.types.resource_identifiers import (
            ValidationResultIdentifier,
        )

        try:
            if self._wait() != 0 or not self.out.exists():
                return None
            entries = json.loads(self.out.read_text(encoding="utf-8"))
        finally:
            self.out.unlink(missing_ok=True)
        for entry in entries:
            entry["result_keys"] = [ValidationResultIdentifier.from_tuple(tuple(k))
                                    for k in entry["result_keys"]]
        return entries

    def discard(self) -> None:
        """Wait for the process (once) and drop what it wrote, if nobody took it."""
        self._wait()
        self.out.unlink(missing_ok=True)


def _validate_in_child(config, run_id: str, suites: list[Suite], run_time: dt.datetime,
                       out: Path) -> None:
    """The background process: validate, write the entries; exit status 1 when it failed (the
    parent then validates them itself)."""
    die_with_parent()
    # Behind the load and the refresh on the cores: they are the night's critical path, and
    # these suites are only waited for once the refresh is done (docs/performance.md)
    os.nice(CANONICAL_NICENESS)
    try:
        frames = frames_for_run(config, run_id, suites)
        entries = _validate(_context(Path(config.report_dir)), suites, frames, run_id, run_time)
        for entry in entries:
            entry["result_keys"] = [list(k.to_tuple()) for k in entry["result_keys"]]
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries), encoding="utf-8")
        tmp.replace(out)
    except BaseException as exc:  # noqa: BLE001 - reported by the exit status
        log.warning("canonical suites in the background: %s: %s", type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "")
        raise SystemExit(1) from None


def _has_rows(path: Path) -> bool:
    """A CSV file with a row under its header."""
    with open(path, encoding="utf-8") as f:
        return bool(f.readline() and f.readline())


def start_canonical(config, run_id: str,
                    canonical: tuple[Suite, ...]) -> InBackground | None:
    """Validate the canonical suites in a forked process and return at once; None when the
    run's batches wrote no canonical row (an empty night): nothing to start, no process that
    would import GX for nothing.

    They read only the run's batch files, so `deflect run` has them checked while it loads and
    refreshes the warehouse; run_expectations(..., canonical=) takes their results. The process
    writes its results to the validation store and its entries to a file, and never opens the
    warehouse (a DuckDB file being written to cannot be opened)."""
    from deflect.core.runs import run_dir

    suites = list(canonical)
    rdir = run_dir(config, run_id)
    if not any(_has_rows(p) for s in suites for p in rdir.glob(f"batches/*/{s.table}.csv")):
        return None
    run_time = dt.datetime.now(dt.UTC)
    out = rdir / "expectations-canonical.json"
    out.unlink(missing_ok=True)
    # fork: the child starts at once with GX already imported (warm_up) and the suites in hand
    process = multiprocessing.get_context("fork").Process(
        target=_validate_in_child, args=(config, run_id, suites, run_time, out),
        name=f"expectations-{run_id}", daemon=True)
    process.start()
    return InBackground(process, out, run_time, tuple(s.name for s in suites))


def run_expectations(
    config,
    run_id: str,
    canonical_suites: tuple[Suite, ...] = (),
    suites: list[Suite] | None = None,
    frames: dict[str, pd.DataFrame] | None = None,
    canonical: InBackground | None = None,
) -> dict:
    """Validate this run's canonical rows and the reporting views; keep results; build Data Docs.

    `canonical_suites`: the adapters' suites on their canonical tables (with the reporting
    suites they make `suites` unless given).
    `canonical`: suites already validating in the background (start_canonical); their results
    are taken from there, or the suites are validated here when that process failed.
    Returns the summary written to report_dir/gx/results/<run_id>.json (the report reads it).
    """
    report_dir = Path(config.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    if suites is None:
        suites = build_suites(unit_codes(load_units(config.reference_units)), canonical_suites)
    elsewhere = set(canonical.suites) if canonical is not None else set()
    here = [s for s in suites if s.name not in elsewhere]
    scopes: dict[str, dict] = {}
    if frames is None:
        frames = frames_for_run(config, run_id, here, scopes)
    ctx = _context(report_dir)
    import great_expectations as gx

    run_time = canonical.run_time if canonical is not None else dt.datetime.now(dt.UTC)
    digests = {s.name: d for s in here
               if (d := _frame_digest(s, frames.get(s.name), gx.__version__))}
    same = _unchanged_results(report_dir, digests)
    entries = _validate(ctx, [s for s in here if s.name not in same], frames, run_id, run_time)
    for suite in here:
        if suite.name in same:  # listed in the Data Docs like the others; not validated again
            ctx.suites.add(_gx_suite(gx, suite))
            entries.append(same[suite.name])
    if canonical is not None:
        rest = [s for s in suites if s.name in elsewhere]
        done = canonical.entries()
        if done is None:
            log.warning("the canonical suites did not finish in the background: run here")
            entries += _validate(ctx, rest, frames_for_run(config, run_id, rest), run_id,
                                 run_time)
        else:
            for suite in rest:  # their Data Docs pages are rendered from this context
                ctx.suites.add(_gx_suite(gx, suite))
            entries += done
    position = {s.name: i for i, s in enumerate(suites)}
    by_name = {s.name: s for s in suites}
    entries.sort(key=lambda e: position[e["suite"]])
    for entry in entries:  # what each suite covered, for the report
        suite = by_name[entry["suite"]]
        entry.update(scopes.get(entry["suite"]) or {"scope": _scope(suite)})
        if suite.guaranteed:
            entry["guaranteed"] = list(suite.guaranteed)
    summary = {
        "run_id": run_id,
        "checkpoint": "deflect_load",
        "suites": entries,
        "evaluated": sum(len(e["expectations"]) for e in entries),
        "failed": sum(1 for e in entries for x in e["expectations"] if not x["success"]),
        "success": all(e["success"] for e in entries),
        "validated_at": run_time.isoformat(timespec="seconds"),
    }
    _build_docs(ctx, report_dir, [by_name[e["suite"]] for e in entries],
                [k for e in entries for k in e["result_keys"]], bytecode_cache(config))
    for entry in summary["suites"]:
        # a suite validated in parts links its first part's page (the index lists every part)
        keys = entry.pop("result_keys")
        if "same_as" not in entry:
            entry["data_docs_page"] = _docs_page(ctx, keys[0], report_dir) if keys else None
    _remember_results(report_dir, digests, summary["suites"], run_id, summary["validated_at"])
    docs_index = report_dir / DATA_DOCS_DIR / "index.html"
    summary["data_docs_index"] = (
        docs_index.relative_to(report_dir).as_posix() if docs_index.exists() else None
    )
    out = report_dir / RESULTS_DIR / f"{run_id}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return summary


def _write_json(path: Path, data) -> None:
    """`data` as JSON at `path`, whole or not at all (written aside, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(path)


def _frame_digest(suite: Suite, frame, validator: str = "") -> str | None:
    """What a reporting suite's result depends on: its expectations, the rows it checks (in
    their order, values and types) and what checks them (`validator`: GX's version), as one
    SHA-256; None for a suite that is not reused (a canonical suite's rows are the run's own; a
    suite without rows is skipped anyway)."""
    if suite.origin != "reporting" or not isinstance(frame, pd.DataFrame) or not len(frame):
        return None
    h = hashlib.sha256(_suite_fingerprint(suite).encode())
    h.update(validator.encode())
    h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _read_last_results(report_dir: Path) -> dict:
    try:
        return json.loads((report_dir / LAST_RESULTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _unchanged_results(report_dir: Path, digests: dict[str, str]) -> dict[str, dict]:
    """The entries of the reporting suites whose rows and expectations are those of their last
    validation: the same rows under the same expectations give the same result, so it is taken
    over (`same_as` names the run that validated them) instead of validating again. On a night
    with nothing new the follow-up compliance and counts views are unchanged, and GX spent most
    of the publish step on them (docs/performance.md)."""
    last = _read_last_results(report_dir)
    out = {}
    for name, digest in digests.items():
        kept = last.get(name)
        if not kept or kept.get("digest") != digest:
            continue
        entry = dict(kept["entry"])
        page = entry.get("data_docs_page")
        if page and not (report_dir / page).exists():
            entry["data_docs_page"] = None
        entry["same_as"] = {"run_id": kept["run_id"], "validated_at": kept["validated_at"]}
        entry["result_keys"] = []
        out[name] = entry
    return out


def _remember_results(report_dir: Path, digests: dict[str, str], entries: list[dict],
                      run_id: str, validated_at: str) -> None:
    """Keep each reporting suite's entry validated by this run, with the digest of its rows."""
    fresh = {e["suite"]: e for e in entries if e["suite"] in digests and "same_as" not in e}
    if not fresh:
        return
    last = _read_last_results(report_dir)
    for name, entry in fresh.items():
        last[name] = {"digest": digests[name], "run_id": run_id, "validated_at": validated_at,
                      "entry": entry}
    _write_json(report_dir / LAST_RESULTS, last)


def _suite_fingerprint(suite: Suite) -> str:
    spec = [suite.name, [[x.kind, x.kwargs] for x in suite.expectations]]
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _build_docs(ctx, report_dir: Path, suites: list[Suite], result_keys: list,
                templates=None) -> None:
    """This run's pages of the Data Docs and their index; nothing of earlier runs is rendered
    again. A suite's page only when its definition changed since it was rendered, or the page
    is missing (the suites are the same night after night). `templates`: GX's compiled page
    templates, kept between runs (stewardship/template_cache.py)."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    pages_file = report_dir / SUITE_PAGES
    try:
        rendered = json.loads(pages_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        rendered = {}
    stale = []
    for suite in suites:
        fingerprint = _suite_fingerprint(suite)
        page = report_dir / DATA_DOCS_DIR / "expectations" / f"{suite.name}.html"
        if rendered.get(suite.name) != fingerprint or not page.exists():
            stale.append(suite)
            rendered[suite.name] = fingerprint
    identifiers = [*result_keys, *(ExpectationSuiteIdentifier(name=s.name) for s in stale)]
    if not identifiers:
        return  # nothing new (GX would take an empty list for "every page")
    with gx_views_cached(templates):
        ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=identifiers)
    if stale:
        _write_json(pages_file, rendered)
