"""The pipeline as plain functions: what `deflect run` calls in-process and what the Airflow DAGs
call task by task. Tasks exchange only run ids, source names and batch ids; everything else goes
through files under `work_dir/runs/<run_id>/` and the warehouse.

This is the composing layer (docs/architecture.md): the one place that puts the adapters,
ingestion, the warehouse, the rules (transforms) and stewardship together. Those packages never
import each other upward; they are handed what they need from here.

    start_run ─► plan_source (per source) ─► process_batch (per batch) ─► load_run ─► refresh
        ─► report ─► summary (deflect.summary)

A source whose planning or processing fails is recorded as failed in `reporting.load_run`; the
others go on (operations.md: non-zero exit only after the others were processed).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from adapters.registry import (
    adapter_for,
    canonical_suites,
    field_classes,
    pathway_codes,
    staging_tables,
)
from deflect.core.config import Config
from deflect.core.dates import check_as_of, today_chicago
from deflect.core.processes import die_with_parent
from deflect.core.runs import latest_run_id, new_run_id, run_dir, run_info  # noqa: F401 - API
from deflect.core.runs import now_utc as _now
from deflect.core.runs import read_json as _read_json
from deflect.core.runs import write_json as _write_json
from deflect.summary import summary

log = logging.getLogger(__name__)
DEFAULT_BATCH_SIZE = 50  # files per mapped task: map batches, not files
# Listed bytes per batch (one larger file is a batch alone): a night of many mid-sized files of
# one source (TraCS exports) spreads over the workers. The same size as ingestion.shards'
# SHARD_MIN_BYTES: a file that large is spread over the cores by its shards instead. The cap
# grows with what the source lists, so that its files make about SPREAD_BATCHES batches and no
# more: a year's backfill (11 GB of TraCS exports) stays in batches of 50 files, each batch
# costing a connection, a worker and its own memory of the records it accepted.
DEFAULT_BATCH_BYTES = 64 * 1024 * 1024
SPREAD_BATCHES = 4
# What a stage writes (run files, batches, reports, GX results, Data Docs) is the pipeline
# account's and its group's only: directories 0750, files 0640. The landing area stays 0700.
PRIVATE_UMASK = 0o027


def _private() -> None:
    """Every file a pipeline stage creates is readable by its account and group only (the
    stages also run as Airflow tasks, in processes of their own, so each sets it)."""
    os.umask(PRIVATE_UMASK)


@dataclass
class SourceRun:
    """What one source did in one run; written to runs/<run_id>/sources/<name>.json."""

    source: str
    started_at: str
    finished_at: str | None = None
    status: str = "ok"
    error: str | None = None
    files_seen: int = 0
    files_pending: int = 0
    batch_ids: list[str] = field(default_factory=list)


def clean_leftovers(config: Config, older_than_s: float) -> int:
    """Remove what a killed run left: partial downloads (`.part-*` in the landing area) and
    unfinished batch directories (`.<batch>.tmp-*`, `.old-*`), older than `older_than_s`
    seconds (0 when this process holds the run lock, so nothing else is writing them). The
    count removed."""
    import shutil
    import time

    limit = time.time() - older_than_s
    removed = 0
    patterns = [(config.landing_dir, "**/.part-*"), (config.work_dir, "runs/*/batches/.*.tmp-*"),
                (config.work_dir, "runs/*/batches/.*.old-*")]
    for base, pattern in patterns:
        for path in Path(base).glob(pattern):
            try:
                if path.lstat().st_mtime > limit:
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed += 1
            except OSError:
                continue
    if removed:
        log.info("removed %d leftovers of interrupted runs", removed)
    return removed


def start_run(config: Config, as_of: dt.date | None = None, run_id: str | None = None,
              airflow: dict | None = None, force_as_of: bool = False,
              clean_older_than_s: float = 12 * 3600) -> str:
    """Create the run directory and make sure the warehouse is migrated; the run id.

    `airflow`: the Airflow run this pipeline run belongs to ({"dag_id", "run_id", "run_type"}),
    kept as the run's lineage; the run id's suffix is derived from it."""
    _private()
    from deflect.core.person_key import secret_fingerprint
    from warehouse import connect, migrate
    from warehouse.keying import check_fingerprint
    from warehouse.migrate import ensure_staging

    # refused here, before anything is written: far-off dates break the rules' date arithmetic
    as_of = check_as_of(as_of or today_chicago(), force=force_as_of)
    tag = f"{airflow['dag_id']}/{airflow['run_id']}" if airflow else None
    run_id = run_id or new_run_id(tag)
    for d in (config.landing_dir, config.work_dir, config.report_dir):
        d.mkdir(parents=True, exist_ok=True, mode=0o750)
    os.chmod(config.landing_dir, 0o700)
    for d in (config.work_dir, config.report_dir):  # made by an earlier, laxer version too
        os.chmod(d, 0o750)
    clean_leftovers(config, clean_older_than_s)
    _write_json(run_dir(config, run_id) / "run.json",
                {"run_id": run_id, "as_of": as_of.isoformat(), "started_at": _now()})
    if airflow:
        _write_json(run_dir(config, run_id) / "airflow.json", airflow)
    with connect(config.warehouse) as wh:
        migrate(wh)
        ensure_staging(wh, staging_tables())
        check_fingerprint(wh, secret_fingerprint(config.person_key_secret()),
                          config.person_key_secret_env)
    return run_id


def replay_config_file(config: Config, run_id: str):
    """Where a replay run keeps the configuration of its staged sources (read by its tasks)."""
    return run_dir(config, run_id) / "replay-config.yaml"


def config_for_run(path, run_id: str | None = None) -> Config:
    """The configuration a task of `run_id` works with: the main one at `path`, or the run's own
    when it is a replay (replay_config_file)."""
    from deflect.configuration import load_config

    config = load_config(path)
    if run_id:
        replay = replay_config_file(config, run_id)
        if replay.exists():
            return load_config(replay)
    return config


def plan_source(config: Config, run_id: str, source_name: str,
                batch_size: int = DEFAULT_BATCH_SIZE,
                batch_bytes: int | None = DEFAULT_BATCH_BYTES, ledger=None) -> list[str]:
    """List one source's drop against the ledger; write one batch spec per group of files to fetch.

    Returns the batch ids. A failure is recorded for the source and yields no batches.
    `ledger`: the source's ledger snapshot when already read (plan_sources), else read here.
    """
    _private()
    from ingestion import plan_source as ingest_plan
    from ingestion import split_plan
    from ingestion.plan import batch_bytes_for
    from warehouse import connect, ledger_snapshot

    source = config.source(source_name)
    record = SourceRun(source=source_name, started_at=_now())
    try:
        if ledger is None:
            with connect(config.warehouse, read_only=True) as wh:
                ledger = ledger_snapshot(wh, source_name)
        plan = ingest_plan(source, adapter_for(source.kind), ledger,
                           max_file_bytes=config.max_file_bytes)
        record.files_seen = len(plan.files_seen)
        record.files_pending = len(plan.pending)
        cap = batch_bytes_for(plan.to_fetch, batch_bytes, SPREAD_BATCHES)
        for i, files in enumerate(split_plan(plan, batch_size, cap)):
            batch_id = f"{run_id}-{source_name}-{i:04d}"
            _write_json(run_dir(config, run_id) / "batches" / f"{batch_id}.json",
                        {"batch_id": batch_id, "source": source_name,
                         "files": [asdict(f) for f in files]})
            record.batch_ids.append(batch_id)
    except Exception as exc:  # noqa: BLE001 - one source's failure must not stop the others
        record.status, record.error = "failed", _describe(exc)
        log.error("source %s: planning failed: %s", source_name, record.error)
    _write_json(run_dir(config, run_id) / "sources" / f"{source_name}.json", asdict(record))
    return record.batch_ids


# Sources listed at once by `deflect run`: each listing is mostly waiting (a new SSH session,
# sshd starting a process for it, the listing's round trips), so several overlap well.
PLAN_THREADS = 8


def plan_sources(config: Config, run_id: str) -> list[list[str]]:
    """plan_source of every source, several at a time (threads); batch ids in source order.

    Every thread has finished, and closed its connections, when this returns: the worker
    processes that follow are forked from this process."""
    from concurrent.futures import ThreadPoolExecutor

    names = [s.name for s in config.sources]
    if len(names) <= 1:
        return [plan_source(config, run_id, n) for n in names]
    ledgers = _ledger_snapshots(config, names)
    with ThreadPoolExecutor(max_workers=min(PLAN_THREADS, len(names)),
                            thread_name_prefix="plan") as pool:
        return list(pool.map(lambda n: plan_source(config, run_id, n, ledger=ledgers.get(n)),
                             names))


def _ledger_snapshots(config: Config, names: list[str]) -> dict:
    """Every source's ledger snapshot over one warehouse connection, where each listing
    thread opened its own (a connection costs more than the query); {} when the warehouse
    cannot be read now: each source then reads its own and records its own failure."""
    from warehouse import connect, ledger_snapshot

    try:
        with connect(config.warehouse, read_only=True) as wh:
            return {n: ledger_snapshot(wh, n) for n in names}
    except Exception as exc:  # noqa: BLE001 - reported per source by plan_source
        log.debug("ledger snapshots: %s", _describe(exc))
        return {}


def process_batch(config: Config, run_id: str, batch_id: str) -> str:
    """Fetch, validate and extract one batch of files into its batch directory. Returns its path."""
    _private()
    from ingestion import RemoteFile, process_files
    from warehouse import accepted_records, connect, ledger_snapshot

    spec = _read_json(run_dir(config, run_id) / "batches" / f"{batch_id}.json")
    source = config.source(spec["source"])
    adapter = adapter_for(source.kind)
    files = [RemoteFile(**f) for f in spec["files"]]
    batch_dir = run_dir(config, run_id) / "batches" / batch_id
    # the connection stays open for the batch: each file asks which of its records the
    # warehouse already holds (while batches run, the run loads only sources whose batches are
    # all done: EarlyLoads)
    with connect(config.warehouse, read_only=True) as wh:
        ledger = ledger_snapshot(wh, source.name)

        def accepted_before(schema_version, record_ids):
            return accepted_records(wh, adapter.tables, source.name, schema_version, record_ids)

        result = process_files(
            source, files, adapter=adapter, config=config, ledger=ledger, run_id=run_id,
            batch_id=batch_id, batch_dir=batch_dir, secret=config.person_key_secret(),
            accepted_before=accepted_before,
        )
    if result.status != "ok":
        log.error("source %s: batch %s failed: %s", source.name, batch_id, result.error)
    return str(batch_dir)


def _source_batches(config: Config, run_id: str, source, info: dict):
    """A source's run record, status, error and [(batch dir, batch.json)] of its batches that
    wrote output, as the load takes them."""
    rdir = run_dir(config, run_id)
    spath = rdir / "sources" / f"{source.name}.json"
    srun = _read_json(spath) if spath.exists() else asdict(
        SourceRun(source=source.name, started_at=info["started_at"], status="failed",
                  error="the source was not planned in this run"))
    status, error = srun["status"], srun.get("error")
    batches = []
    for batch_id in srun["batch_ids"]:
        bdir = rdir / "batches" / batch_id
        if not (bdir / "batch.json").exists():
            status, error = "failed", error or f"batch {batch_id} produced no output"
            continue
        batch = _read_json(bdir / "batch.json")
        if batch.get("status") != "ok":
            status, error = "failed", batch.get("error") or error
        batches.append((bdir, batch))
    return srun, status, error, batches


def load_run(config: Config, run_id: str, loaded: dict | None = None) -> dict:
    """Load every batch directory of the run (idempotent per batch) and write `reporting.load_run`.

    The batches are loaded together, in one transaction, as if one after another in source
    order (warehouse.load.load_batches): a load costs a few dozen statements, not a few dozen
    per batch. `loaded`: the LoadResults, by batch id, of batches this run already loaded while
    its later sources were processed (EarlyLoads); the same order holds, so the warehouse is the
    one a single load would have left."""
    _private()
    from warehouse import connect, load_batches, record_load_runs

    loaded = loaded or {}
    rdir = run_dir(config, run_id)
    info = run_info(config, run_id)
    sources = [(source, *_source_batches(config, run_id, source, info))
               for source in config.sources]
    totals, rows = {}, []
    with connect(config.warehouse) as wh:
        todo = [bdir for *_, bs in sources for bdir, _ in bs if bdir.name not in loaded]
        fresh = iter(load_batches(wh, staging_tables(), todo))
        with wh.transaction():
            for source, srun, status, error, batches in sources:
                counts = {"files_seen": srun["files_seen"], "files_loaded": 0,
                          "files_pending": srun["files_pending"], "files_quarantined": 0,
                          "files_duplicate": 0, "records_loaded": 0, "records_quarantined": 0}
                already = 0  # records accepted before, not checked again (the file ledger's)
                for bdir, batch in batches:
                    result = loaded[bdir.name] if bdir.name in loaded else next(fresh)
                    for key in ("files_loaded", "files_quarantined", "files_duplicate"):
                        counts[key] += int(batch.get(key) or 0)
                    # pending: the plan's (counted above) and those that changed while fetching
                    listed = _read_json(bdir.parent / f"{bdir.name}.json")["files"]
                    counts["files_pending"] += int(batch.get("files_pending") or 0) - sum(
                        1 for f in listed if f.get("pending"))
                    counts["records_loaded"] += result.records_loaded
                    counts["records_quarantined"] += int(batch.get("records_quarantined") or 0)
                    already += int(batch.get("records_already_accepted") or 0)
                rows.append(dict(source=source.name, started_at=srun["started_at"],
                                 finished_at=_now(), as_of=dt.date.fromisoformat(info["as_of"]),
                                 status=status, **counts))
                totals[source.name] = {**counts, "records_already_accepted": already,
                                       "status": status, "error": error}
            record_load_runs(wh, run_id, rows)  # every source in two statements
    _write_json(rdir / "load.json", totals)
    return totals


class EarlyLoads:
    """Loads a run's first sources while its later sources' batches are still processed.

    After the batches, the load, the refresh and the report run one after another on one core
    while the others idle; the batches keep every core busy, so a load done while batches still
    run costs the night less (0.3-0.7 s of 17 s on a record-heavy night: docs/performance.md).
    `batch_done` is called in the run's process as each batch finishes; once every batch of the
    sources that come first in the configuration is done, and other batches are still running,
    those sources are loaded then (in configuration order, as load_run would: the warehouse is
    the same). A source is only loaded once all its batches are done: a batch reads what its
    source has staged (the records it accepted before), and must not see its own night's rows
    appear halfway.

    PostgreSQL only: a DuckDB file being written cannot be opened by the workers. Nothing is
    loaded early with one worker, nor once no batch is running any more (load_run then loads
    the rest in one transaction). A failed early load is logged and ends early loading;
    load_run then loads those batches with the others."""

    def __init__(self, config: Config, run_id: str, batches: list[tuple[str, str]]):
        from warehouse.backend import dialect_of

        self.config, self.run_id = config, run_id
        self.left: dict[str, int] = {}
        for source, _ in batches:
            self.left[source] = self.left.get(source, 0) + 1
        # the sources with batches, in configuration order (load_run's order)
        self.order = [s.name for s in config.sources if s.name in self.left]
        self.next = 0  # order[:next] are loaded (or handed over to load_run)
        self.enabled = dialect_of(config.warehouse) == "postgresql"
        self.loaded: dict = {}  # batch id -> LoadResult

    def batch_done(self, source: str, batch_id: str, running: int) -> None:
        """`running`: how many batches are still being processed (not those finished and not
        yet reported: this process learns of them late while it loads)."""
        self.left[source] -= 1
        ready = []
        while self.next < len(self.order) and self.left[self.order[self.next]] == 0:
            ready.append(self.order[self.next])
            self.next += 1
        # with nothing running beside it, load_run loads them with the rest, in one transaction
        if ready and self.enabled and running:
            self._load(ready)

    def _load(self, names: list[str]) -> None:
        from warehouse import connect, load_batches

        try:
            info = run_info(self.config, self.run_id)
            dirs = [bdir for s in self.config.sources if s.name in names
                    for bdir, _ in _source_batches(self.config, self.run_id, s, info)[3]]
            with connect(self.config.warehouse) as wh:
                results = load_batches(wh, staging_tables(), dirs)
        except Exception as exc:  # noqa: BLE001 - only a head start: load_run loads them
            log.warning("loading %s while other batches ran failed (%s); they are loaded "
                        "after the batches", ", ".join(names), _describe(exc))
            self.enabled = False
            return
        self.loaded.update({bdir.name: r for bdir, r in zip(dirs, results, strict=True)})
        log.info("loaded %d batches of %s while other batches ran", len(dirs), ", ".join(names))


def build_marts(tables: dict, units, as_of: dt.date):
    """The rules (transforms) over the warehouse's current rows (staging table -> frame)."""
    from transforms import CurrentRows
    from transforms import build_marts as build

    return build(CurrentRows.from_tables(tables), units, as_of)


def refresh(config: Config, run_id: str, whole: bool = False):
    """Bring linking, attribution and follow-up up to date; refresh `reporting`.

    Incremental: only the deflections the run's loads and its as-of date can have changed are
    rebuilt (transforms.Dependencies says which); whole the first time, after a change of the
    rules or the unit reference, when the as-of date goes back, or with `whole`."""
    _private()
    from transforms import DEPENDENCIES, rules_fingerprint
    from transforms.current import RECORDS_WITH_ROWS_IN
    from warehouse import connect
    from warehouse import refresh as wh_refresh

    info = run_info(config, run_id)
    with connect(config.warehouse) as wh:
        result = wh_refresh(wh, run_id=run_id, as_of=dt.date.fromisoformat(info["as_of"]),
                            kinds=staging_tables(), build=build_marts,
                            units_path=config.reference_units, pathway_codes=pathway_codes(),
                            records_with_rows_in=RECORDS_WITH_ROWS_IN, depends=DEPENDENCIES,
                            rules_version=rules_fingerprint(), whole=whole)
    scope = ("whole" if result.records_in_scope is None
             else f"incremental, {result.records_in_scope} records in scope")
    log.info("refresh of run %s: %s, %d deflections rebuilt, %d changed, %d withdrawn", run_id,
             scope, result.deflections, result.rows_changed, result.rows_removed)
    return result


def report(config: Config, run_id: str, expectations: bool = True, canonical=None) -> dict:
    """The expectation suites and the validation report of a run (stewardship): {"report":
    path of the run's page, "expectations_success": bool | None}."""
    _private()
    from stewardship.publish import publish_run

    return publish_run(config, run_id, canonical_suites(), expectations=expectations,
                       canonical=canonical, fields=field_classes())


def default_workers() -> int:
    """Batches processed at once by `deflect run`: one per core, at most four (each holds one
    SFTP connection to its source)."""
    return max(1, min(4, os.cpu_count() or 1))


def batch_bytes(config: Config, run_id: str, batch_id: str) -> int:
    return batch_size(config, run_id, batch_id)[1]


def batch_size(config: Config, run_id: str, batch_id: str) -> tuple[int, int]:
    """(files, bytes) a batch fetches, from its spec (the sizes its plan listed)."""
    spec = _read_json(run_dir(config, run_id) / "batches" / f"{batch_id}.json")
    return len(spec["files"]), sum(int(f.get("size") or 0) for f in spec["files"])


def largest_first(config: Config, run_id: str, batches: list[tuple[str, str]]):
    """Batches by the bytes they fetch, largest first: with several workers, the one big TraCS
    export must not start last and leave the other workers idle at the end."""
    return sorted(batches, key=lambda b: -batch_bytes(config, run_id, b[1]))


def _process_one(config: Config, run_id: str, batch_id: str) -> str | None:
    """process_batch, its failure as one line (logged by the caller, in the parent process)."""
    try:
        process_batch(config, run_id, batch_id)
    except Exception as exc:  # noqa: BLE001 - recorded by load_run as a failed batch
        return _describe(exc)
    return None


def process_batches(config: Config, run_id: str, batches: list[tuple[str, str]],
                    workers: int = 1, progress=None, while_waiting=None, on_batch=None,
                    early: EarlyLoads | None = None) -> None:
    """Process (source, batch id) pairs, `workers` at a time, largest batch first.

    With more than one worker each batch runs in a forked process of its own (a batch is a
    file-to-file step: nothing but its batch directory comes back) and `while_waiting` runs in
    this process meanwhile. `on_batch(source, batch_id, files, bytes)` is called in this process
    as each batch finishes (failed or not: it is done with), with the files and bytes its plan
    listed; `progress(source)` once a source's last batch is done. Neither renders anything:
    deflect.progress does, for the command line. `early` (with more than one worker) loads the
    first sources while later batches run.
    """
    left: dict[str, int] = {}
    for source, _ in batches:
        left[source] = left.get(source, 0) + 1
    # read once, before any batch runs: the specs do not change while the batches run
    sizes = {b: batch_size(config, run_id, b) for _, b in batches} if on_batch else {}

    def done(source: str, batch_id: str) -> None:
        if on_batch:
            on_batch(source, batch_id, *sizes[batch_id])
        left[source] -= 1
        if left[source] == 0 and progress:
            progress(source)

    if workers <= 1 or len(batches) <= 1:
        for source, batch_id in batches:
            error = _process_one(config, run_id, batch_id)
            if error:
                log.error("source %s: batch %s failed: %s", source, batch_id, error)
            done(source, batch_id)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    order = largest_first(config, run_id, batches)
    # fork: workers start at once with what this process has imported; it holds no open
    # connection or running thread here (planning closed them).
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(order)), mp_context=ctx,
                             initializer=die_with_parent) as pool:
        futures = {pool.submit(_process_one, config, run_id, b): (s, b) for s, b in order}
        if while_waiting:
            try:
                while_waiting()
            except Exception as exc:  # noqa: BLE001 - only a head start: never fails the run
                log.warning("while waiting for the batches: %s", _describe(exc))
        for future in as_completed(futures):
            source, batch_id = futures[future]
            try:
                error = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died; load_run records it
                error = _describe(exc)
            if error:
                log.error("source %s: batch %s failed: %s", source, batch_id, error)
            done(source, batch_id)
            if early:
                early.batch_done(source, batch_id, sum(not f.done() for f in futures))


def run(config: Config, as_of: dt.date | None = None, progress=None, publish: bool = True,
        workers: int | None = None, force_as_of: bool = False, lock: bool = True,
        on_plan=None, on_batch=None) -> dict:
    """One full run in-process (`deflect run`): every stage of the DAG, in order.

    Progress, for whoever shows it (deflect.progress): `progress(source)` once a source is done
    (planned without batches, or its last batch finished); `on_plan(batches)` once every source
    is planned, with (source, batch id, files, bytes) of every batch of the run;
    `on_batch(source, batch_id, files, bytes)` as each batch finishes.

    Batches of every source are processed `workers` at a time (default: `default_workers()`),
    as the DAG's mapped tasks are. `publish` runs the expectation suites and writes the
    validation report (stewardship); its libraries are imported while the batches run.

    The whole run holds the warehouse's run lock (warehouse.locks): a second run at the same
    time is refused with RunLocked before it touches anything."""
    from warehouse.locks import run_lock

    if not lock:  # the caller holds the run lock (deflect rekey)
        return _run_locked(config, as_of, progress, publish, workers, force_as_of,
                           on_plan, on_batch)
    with run_lock(config.warehouse):
        return _run_locked(config, as_of, progress, publish, workers, force_as_of,
                           on_plan, on_batch)


def _run_locked(config: Config, as_of, progress, publish: bool, workers, force_as_of,
                on_plan=None, on_batch=None) -> dict:
    # the run lock is held: nothing else writes partial files now, whatever their age
    run_id = start_run(config, as_of, force_as_of=force_as_of, clean_older_than_s=0)
    batches = []
    for source, batch_ids in zip(config.sources, plan_sources(config, run_id), strict=True):
        if not batch_ids and progress:
            progress(source.name)
        batches += [(source.name, b) for b in batch_ids]
    if on_plan:
        on_plan([(s, b, *batch_size(config, run_id, b)) for s, b in batches])
    warm_up = None
    if publish:
        from stewardship.expectations import warm_up
    workers = default_workers() if workers is None else workers
    early = EarlyLoads(config, run_id, batches)
    process_batches(config, run_id, batches, workers, progress, while_waiting=warm_up,
                    on_batch=on_batch, early=early)
    canonical = None
    if publish:
        # the canonical suites read only the batch files: checked while the warehouse loads
        from stewardship.expectations import start_canonical

        canonical = start_canonical(config, run_id, canonical_suites())
    try:
        load_run(config, run_id, loaded=early.loaded if early else None)
    except BaseException:
        if canonical is not None:
            canonical.discard()
        raise
    published = {}
    try:
        refresh(config, run_id)
    finally:
        if publish:  # the validation report is written even when the refresh failed
            published = report(config, run_id, canonical=canonical)
    # the night's verdict as the report just derived it: deriving every entry's state again
    # costs as much as the report's own reading, and grows with years of entries
    return summary(config, run_id, night=published.get("tonight"))


def _describe(exc: BaseException) -> str:
    """One line for logs and the run record: the exception, never a traceback with data in it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    log.debug("".join(traceback.format_exception(exc)))
    return f"{name}: {text}" if text else name

