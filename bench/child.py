"""One measured stage in a process of its own: `python -m bench.child STAGE SPEC.json`.

A process per stage gives each stage its own peak memory (the parent reads it with wait4; lxml's
memory is invisible to tracemalloc) and a cold start like an Airflow task's. The last line on
stdout is `BENCH-RESULT <json>`: what the stage counted and its own seconds, imports excluded.
"""
from __future__ import annotations

import cProfile
import functools
import gc
import gzip
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from deflect.core.runs import run_dir

RESULT_PREFIX = "BENCH-RESULT "


# -- attributing the time of one process to the pipeline's stages ------------------------------

class StageClock:
    """Exclusive time per bucket: time spent in a wrapped call nested inside another wrapped call
    counts for the inner one only, so the buckets add up to the outermost call's time."""

    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self._stack: list[str] = []

    def wrap(self, owner, name: str, bucket: str, materialize: bool = False) -> None:
        original = getattr(owner, name)
        clock = self

        @functools.wraps(original)
        def timed(*args, **kwargs):
            clock._stack.append(bucket)
            started = time.perf_counter()
            try:
                result = original(*args, **kwargs)
                # a generator does its work when consumed: consume it inside the timer
                return list(result) if materialize else result
            finally:
                spent = time.perf_counter() - started
                clock._stack.pop()
                clock.totals[bucket] += spent
                clock.calls[bucket] += 1
                if clock._stack:
                    clock.totals[clock._stack[-1]] -= spent

        setattr(owner, name, timed)


def instrument_ingest(clock: StageClock) -> None:
    """Split process_batch into fetch / validation / extraction / bookkeeping.

    fetch: connecting, downloading into the landing area (SHA-256, fsync), sidecars.
    validation: the two streaming passes (well-formedness, record counts, schema per record,
    F/S/B rules) -- what DocumentProcessor.run does besides the calls below.
    extraction: record identity (C14N + SHA-256), canonical rows, quarantine, writing the batch.
    bookkeeping: the rest of process_batch (batch spec, ledger snapshot, file ledger decisions).
    """
    from adapters.meg_reports import MegAdapter
    from adapters.tracs import TracsAdapter
    from deflect import pipeline
    from ingestion import batch, document, process, transport

    clock.wrap(pipeline, "process_batch", "bookkeeping")
    for cls in (transport.SftpDrop, transport.LocalDrop):
        clock.wrap(cls, "fetch", "fetch")
        clock.wrap(cls, "read_small", "fetch")
        clock.wrap(cls, "__enter__", "fetch")
        clock.wrap(cls, "__exit__", "fetch")
    clock.wrap(process, "commit_tmp", "fetch")
    clock.wrap(document.DocumentProcessor, "run", "validation")
    clock.wrap(document, "c14n", "extraction")
    clock.wrap(document, "record_sha256", "extraction")
    for cls in (TracsAdapter, MegAdapter):
        clock.wrap(cls, "extract", "extraction", materialize=True)
    for name in ("row", "quarantine_record", "commit", "discard"):
        clock.wrap(batch.FileSpool, name, "extraction")
    for name in ("write", "quarantine", "finish"):
        clock.wrap(batch.BatchWriter, name, "extraction")


# -- stages -------------------------------------------------------------------------------------

def _open(path: str):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def stage_floor(spec: dict) -> dict:
    """lxml parse plus XML Schema validation of every file, nothing else."""
    from lxml import etree

    from adapters.registry import schemas_by_namespace
    from schemas import registry

    by_namespace = schemas_by_namespace()
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True,
                             load_dtd=False)
    stats: Counter = Counter()
    for path in spec["files"]:
        try:
            if path.endswith(".gz"):
                with _open(path) as fh:
                    doc = etree.parse(fh, parser)
            else:
                doc = etree.parse(path, parser)
        except (etree.XMLSyntaxError, OSError, EOFError):
            stats["not_well_formed"] += 1
            continue
        root = doc.getroot()
        schemas = by_namespace.get(etree.QName(root).namespace or "")
        version = root.get(schemas.version_attribute) if schemas else None
        if schemas is None or version not in schemas.versions:
            stats["no_schema"] += 1
            continue
        entry = registry.get_schema(schemas, version)
        try:
            if entry.xsd.validate(doc):
                stats["valid"] += 1
            else:
                stats["invalid"] += 1
                stats["schema_errors"] += len(entry.xsd.error_log)
        except etree.Error:  # e.g. an unresolved entity under a DOCTYPE
            stats["validator_error"] += 1
        del doc, root
    return {"files": len(spec["files"]), **stats}


# what a first attempt reads with pandas.read_xml: one DataFrame per repeating element
NAIVE_TABLES = {
    "tracs": {"field_report": "//t:FieldReport", "summary": "//t:summary",
              "individual": "//t:individual", "deflection": "//t:deflection",
              "evidence_item": "//t:item"},
    "meg": {"case": "//t:Case", "subject": "//t:Subject", "deflection": "//t:Deflection",
            "evaluation": "//t:Evaluation"},
}


def stage_naive(spec: dict) -> dict:
    """The baseline a user might write first: xmlschema validation, pandas.read_xml, to_sql."""
    import pandas as pd
    import sqlalchemy
    import xmlschema
    from lxml import etree

    from adapters.registry import schemas_by_namespace

    by_namespace = schemas_by_namespace()
    schemas: dict[tuple[str, str], object] = {}
    frames: dict[str, list] = defaultdict(list)
    stats: Counter = Counter()
    spent: Counter = Counter()
    for f in spec["files"]:
        path, kind = f["path"], f["kind"]
        started = time.perf_counter()
        try:
            with _open(path) as fh:
                _, root = next(etree.iterparse(fh, events=("start",)))
            namespace = etree.QName(root).namespace
            interface = by_namespace[namespace]
            version = root.get(interface.version_attribute)
            key = (namespace, version)
            if key not in schemas:
                schemas[key] = xmlschema.XMLSchema10(str(interface.path(version)))
            with _open(path) as fh:
                errors = sum(1 for _ in schemas[key].iter_errors(fh))
        except Exception:  # noqa: BLE001 - a naive loop skips what it cannot read
            stats["unreadable"] += 1
            spent["validate"] += time.perf_counter() - started
            continue
        stats["schema_errors"] += errors
        spent["validate"] += time.perf_counter() - started
        started = time.perf_counter()
        for table, xpath in NAIVE_TABLES[kind].items():
            try:
                frame = pd.read_xml(path, xpath=xpath, namespaces={"t": namespace},
                                    parser="lxml")
            except Exception:  # noqa: BLE001 - no such element in this file, or not XML
                frame = None
            if frame is not None:
                frame.insert(0, "file_name", os.path.basename(path))
                frames[f"{kind}_{table}"].append(frame)
        spent["read_xml"] += time.perf_counter() - started
    started = time.perf_counter()
    engine = sqlalchemy.create_engine(spec["sqlalchemy_url"])
    rows = 0
    with engine.begin() as conn:
        for table, parts in frames.items():
            frame = pd.concat(parts, ignore_index=True)
            frame.to_sql(table, conn, if_exists="replace", index=False)
            rows += len(frame)
    engine.dispose()
    spent["to_sql"] += time.perf_counter() - started
    return {"files": len(spec["files"]), "rows_written": rows, **stats,
            "seconds_by_step": {k: round(v, 3) for k, v in spent.items()}}


def _config(spec: dict):
    from deflect.configuration import load_config

    return load_config(spec["config"])


def stage_plan(spec: dict) -> dict:
    """start_run and plan_source of every source (listing over SFTP, against the ledger)."""
    import datetime as dt

    from deflect import pipeline

    config = _config(spec)
    run_id = pipeline.start_run(config, dt.date.fromisoformat(spec["as_of"]), spec["run_id"])
    batches = sum(len(pipeline.plan_source(config, run_id, s.name)) for s in config.sources)
    return {"run_id": run_id, "batches": batches}


def _batch_ids(config, run_id: str) -> list[str]:

    ids = []
    for s in config.sources:
        path = run_dir(config, run_id) / "sources" / f"{s.name}.json"
        ids += json.loads(path.read_text())["batch_ids"]
    return ids


def stage_ingest(spec: dict) -> dict:
    """process_batch of every planned batch, as `deflect run` calls it, time split by stage."""
    from deflect import pipeline

    # One process per file, as the stage split needs (a sharded file's other shards run in
    # children whose time the clock cannot see); `deflect run` (e2e) shards large files.
    config = _config(spec).model_copy(update={"file_shards": 1})
    clock = StageClock()
    if not spec.get("profile"):  # the profile shows the same split; keep its output readable
        instrument_ingest(clock)
    counts: Counter = Counter()
    for batch_id in _batch_ids(config, spec["run_id"]):
        bdir = Path(pipeline.process_batch(config, spec["run_id"], batch_id))
        meta = json.loads((bdir / "batch.json").read_text())
        for key in ("files_loaded", "files_quarantined", "files_duplicate", "records_extracted",
                    "records_quarantined"):
            counts[key] += int(meta.get(key) or 0)
        counts["failed_batches"] += meta.get("status") != "ok"
    return {**counts, "seconds_by_stage": {k: round(v, 3) for k, v in clock.totals.items()}}


def stage_load(spec: dict) -> dict:
    from deflect import pipeline

    totals = pipeline.load_run(_config(spec), spec["run_id"])
    return {"records_loaded": sum(t["records_loaded"] for t in totals.values()),
            "failed_sources": sorted(k for k, t in totals.items() if t["status"] != "ok")}


def stage_refresh(spec: dict) -> dict:
    """The deflection rules: linking, attribution, follow-up, flags, suppression; marts."""
    from deflect import pipeline
    from warehouse import connect

    config = _config(spec)
    pipeline.refresh(config, spec["run_id"])
    with connect(config.warehouse, read_only=True) as wh:
        return {"deflections": int(wh.scalar("SELECT count(*) FROM marts.fct_deflection"))}


def stage_publish(spec: dict) -> dict:
    """What `deflect run` does after the refresh: expectation suites, validation report, summary."""
    from deflect import pipeline
    from stewardship.publish import publish_run

    config = _config(spec)
    result = publish_run(config, spec["run_id"])
    pipeline.summary(config, spec["run_id"])
    return {"expectations_success": result.get("expectations_success")}


def stage_copy(spec: dict) -> dict:
    """A bare COPY of the same rows: every CSV of the batches into all-text tables, nothing else."""
    from adapters.registry import staging_columns
    from deflect.core.canonical import BOOKKEEPING
    from warehouse import connect
    from warehouse.backend import csv_header, quote_ident

    tables = {**staging_columns(), **BOOKKEEPING}
    with connect(spec["warehouse"]) as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS bare")
        for name, cols in tables.items():
            wh.execute(f"DROP TABLE IF EXISTS bare.{name}")
            wh.execute(f"CREATE TABLE bare.{name} ("
                       + ", ".join(f"{quote_ident(c)} text" for c in cols) + ")")
        started = time.perf_counter()
        files = rows = 0
        for bdir in spec["batch_dirs"]:
            for name in tables:
                path = Path(bdir) / f"{name}.csv"
                if path.exists() and path.stat().st_size > 0:
                    wh.copy_csv(f"bare.{name}", path, csv_header(path))
                    files += 1
        seconds = time.perf_counter() - started
        for name in tables:
            rows += int(wh.scalar(f"SELECT count(*) FROM bare.{name}"))
    return {"csv_files": files, "rows": rows, "copy_seconds": round(seconds, 3)}


def stage_openssh(spec: dict) -> dict:
    """OpenSSH's own `sftp` client fetching the same files, one session per source directory."""
    dest = Path(spec["dest"])
    known_hosts = dest / "known_hosts"
    dest.mkdir(parents=True, exist_ok=True)
    known_hosts.write_text(f"[{spec['host']}]:{spec['port']} {spec['host_key']}\n")
    fetched = 0
    for i, source in enumerate(spec["sources"]):
        target = dest / f"s{i}"
        target.mkdir(exist_ok=True)
        lines = [f'get "{source["dir"]}/{name}" "{target}/{name}"' for name in source["files"]]
        batch = dest / f"batch-{i}.txt"
        batch.write_text("\n".join(lines) + "\n")
        cmd = ["sftp", "-q", "-F", "/dev/null", "-b", str(batch), "-P", str(spec["port"]),
               "-i", spec["key_file"], "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
               "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
               f"{spec['user']}@{spec['host']}"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"sftp failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        fetched += sum(p.stat().st_size for p in target.iterdir())
    return {"bytes_fetched": fetched}


def stage_e2e(spec: dict) -> dict:
    """`deflect run` in this process: the console script's own entry point and arguments."""
    from deflect.cli import console as deflect_main

    argv = ["run", "--config", spec["config"], "--as-of", spec["as_of"]]
    if spec.get("workers"):
        argv += ["--workers", str(spec["workers"])]
    code = deflect_main(argv)
    # It processes batches in forked workers: its peak is the largest of its processes (a forked
    # child's ru_maxrss starts at its parent's size at the fork, so this is an upper bound).
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"exit_status": code, "workers_maxrss_mb": round(workers, 1)}


# What `deflect run` imports to run a night, and then Great Expectations (the publish step), as
# the pipeline imports it: an empty night is measured against the time a process takes to
# import these alone
PIPELINE_MODULES = (
    "deflect.cli", "deflect.pipeline", "adapters.registry", "ingestion.process",
    "schemas.registry", "warehouse", "warehouse.load", "warehouse.refresh", "transforms",
    "stewardship.publish", "stewardship.expectations", "stewardship.report",
)


def stage_imports(spec: dict) -> dict:
    """Import the pipeline's modules and nothing else (the row's time is the process's wall
    time: interpreter start and these imports)."""
    import importlib

    for name in PIPELINE_MODULES:
        importlib.import_module(name)
    from stewardship.expectations import warm_up

    warm_up()  # GX, with what the pipeline leaves unloaded until used (scipy.stats)
    # not the interpreter's shutdown walk over what they created: `deflect` skips it too
    # (deflect.cli.console), and it is not import time
    gc.freeze()
    return {"modules": len(PIPELINE_MODULES) + 1}


# Everything the measured stages import, also lazily inside functions: the warm-up compiles it
WARM_UP_MODULES = (
    "deflect.cli", "deflect.pipeline", "devtools.local_sftp", "ingestion", "ingestion.process",
    "adapters.tracs", "adapters.meg_reports", "schemas.registry", "warehouse", "warehouse.load",
    "warehouse.refresh", "transforms", "stewardship.publish", "stewardship.expectations",
    "stewardship.report", "deflect.steward_cli", "adapters.registry", "great_expectations", "xmlschema", "pandas",
    "sqlalchemy", "sqlalchemy.dialects.postgresql.psycopg", "paramiko", "psycopg", "duckdb",
)


def stage_warmup(spec: dict) -> dict:
    """Import every module once, so that later processes start from compiled bytecode."""
    import importlib

    failed = []
    for name in WARM_UP_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            failed.append(name)
    return {"modules": len(WARM_UP_MODULES), "failed": failed}


# What each stage imports, lazily too, imported before its clock starts: a stage's seconds are
# its work. `e2e` keeps its imports: they are part of what `deflect run` costs a user.
PRELOAD = {
    "floor": ("lxml.etree", "schemas.registry", "adapters.registry"),
    "naive": ("pandas", "sqlalchemy", "xmlschema", "lxml.etree", "schemas.registry",
              "adapters.registry"),
    "plan": ("deflect.pipeline", "ingestion.plan", "ingestion.transport", "warehouse"),
    "ingest": ("deflect.pipeline", "ingestion.process", "adapters.tracs", "adapters.meg_reports",
               "schemas.registry"),
    # psycopg too: `connect` imports it lazily (0.1-0.2 s), and the bare COPY this stage is
    # compared with starts its clock connected
    "load": ("deflect.pipeline", "warehouse", "warehouse.load", "psycopg"),
    "refresh": ("deflect.pipeline", "warehouse", "warehouse.refresh", "transforms"),
    "publish": ("deflect.pipeline", "stewardship.publish", "stewardship.expectations",
                "stewardship.report"),
    "copy": ("warehouse", "deflect.core.canonical", "adapters.registry"),
}

def _preload(stage: str) -> None:
    import importlib

    for name in PRELOAD.get(stage, ()):
        importlib.import_module(name)
    if stage == "publish":  # GX, quietly, as `deflect run` imports it while its batches run
        from stewardship.expectations import warm_up

        warm_up()


STAGES = {
    "floor": stage_floor, "naive": stage_naive, "plan": stage_plan, "ingest": stage_ingest,
    "load": stage_load, "refresh": stage_refresh, "publish": stage_publish, "copy": stage_copy,
    "openssh": stage_openssh, "e2e": stage_e2e, "warmup": stage_warmup,
    "imports": stage_imports,
}


def _write_profile(profiler: cProfile.Profile, path: Path, top: int = 30) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    out.write("\n")
    stats.sort_stats("cumulative").print_stats(top)
    text = out.getvalue().replace(os.getcwd() + "/", "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def peak_rss_mb() -> float:
    """This process's own peak resident set since its exec (VmHWM).

    Not getrusage: on Linux ru_maxrss also counts the memory of the process that forked this one,
    up to the exec, which would give every child at least the parent's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str]) -> int:
    stage, spec_path = argv
    spec = json.loads(Path(spec_path).read_text())
    _preload(stage)
    profiler = cProfile.Profile() if spec.get("profile") else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = STAGES[stage](spec)
    if profiler:
        profiler.disable()
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["maxrss_mb"] = peak_rss_mb()
    if "workers_maxrss_mb" in result:
        result["maxrss_mb"] = max(result["maxrss_mb"], result["workers_maxrss_mb"])
    if profiler:
        _write_profile(profiler, Path(spec["profile"]))
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
