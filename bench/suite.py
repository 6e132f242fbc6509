"""The measurements: each one a process of its own, on one workload view, side by side."""
from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from bench import report
from bench.runner import BenchError, Databases, run_stage, sqlalchemy_url
from bench.workloads import Workload


@dataclass
class Row:
    key: str  # stable id: <workload>.<measurement>
    workload: str
    what: str
    seconds: float
    mb: float | None = None  # input processed, on-disk MB of the data files
    records: int | None = None  # FieldReports + Cases in those files
    maxrss_mb: float | None = None  # peak resident memory of the process that did it
    # peak proportional set size of that process and its descendants together (sampled)
    tree_mb: float | None = None
    process: str | None = None  # which process: rows sharing one share its peak memory
    detail: dict = field(default_factory=dict)

    @property
    def mb_s(self) -> float | None:
        return round(self.mb / self.seconds, 1) if self.mb and self.seconds else None

    @property
    def records_s(self) -> float | None:
        return round(self.records / self.seconds) if self.records and self.seconds else None

    def as_dict(self) -> dict:
        return {**asdict(self), "seconds": round(self.seconds, 3), "mb_s": self.mb_s,
                "records_s": self.records_s}


def give_templates(templates: Path, d: Path) -> None:
    """Start run directory `d`'s work directory with the report templates compiled before."""
    from stewardship.template_cache import CACHE_DIR

    if templates.is_dir():
        shutil.copytree(templates, d / "work" / CACHE_DIR, dirs_exist_ok=True)


def write_run_config(d: Path, source_config: Path, server, warehouse: str,
                     templates: Path) -> Path:
    """d/deflect.yaml: the sources of `source_config` (file:// ones, as the generator writes)
    read over SFTP from the loopback sshd `server`, into `warehouse`, with landing, work and
    report directories under `d`; the work directory starts with `templates`."""
    from devtools.local_sftp import sftp_sources

    data = {
        "warehouse": warehouse,
        "landing_dir": str(d / "landing"),
        "work_dir": str(d / "work"),
        "report_dir": str(d / "reports"),
        "person_key_secret_env": "DEFLECT_PERSON_KEY",
        "sources": sftp_sources(source_config, server),
    }
    path = d / "deflect.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    give_templates(templates, d)
    return path


class Suite:
    """Shared state of one bench invocation: where runs go, the sshd, the databases."""

    def __init__(self, data_dir: Path, server, dbs: Databases, keep_runs: bool, log=print):
        self.data_dir, self.server, self.dbs = data_dir, server, dbs
        self.keep_runs, self.log = keep_runs, log
        self.rows: list[Row] = []
        self.scratch = data_dir / "scratch"

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        rate = f"{row.mb_s} MB/s" if row.mb_s else ""
        mem = f"{row.maxrss_mb:.0f} MB peak" if row.maxrss_mb else ""
        self.log(f"  {row.key:<28} {row.seconds:9.2f} s  {rate:>12}  {mem}")
        return row

    def _io(self, w: Workload) -> dict:
        return {"mb": round(w.bytes / 1e6, 1), "records": w.records}

    # -- run directories and configurations --------------------------------------------------------
    def run_dir(self, label: str) -> Path:
        d = self.data_dir / "runs" / label
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d

    def done_with(self, d: Path) -> None:
        self._keep_templates(d)
        if not self.keep_runs:
            shutil.rmtree(d, ignore_errors=True)

    # Compiled report templates (stewardship/template_cache.py) live in the work directory, which
    # an installed pipeline keeps from night to night; every run directory here is new. So, as
    # with Python's bytecode (use_bytecode_cache), each run starts with what the runs before
    # compiled, and only the bench's first run that renders pages compiles them.
    def _templates(self) -> Path:
        return self.data_dir / "template-cache"

    def _keep_templates(self, d: Path) -> None:
        from stewardship.template_cache import CACHE_DIR

        if (d / "work" / CACHE_DIR).is_dir():
            shutil.copytree(d / "work" / CACHE_DIR, self._templates(), dirs_exist_ok=True)

    def _give_templates(self, d: Path) -> None:
        give_templates(self._templates(), d)

    def write_config(self, w: Workload, d: Path, warehouse: str) -> Path:
        """A configuration reading the workload over SFTP from the loopback sshd."""
        return write_run_config(d, w.config, self.server, warehouse, self._templates())

    # -- side by side -----------------------------------------------------------------------------
    def floor(self, w: Workload, after: bool = False, round_: int = 1) -> Row:
        """The floor; `after`: again, after the end to end run it is compared with (the goals
        take the mean of the two: the machine's speed drifts between runs); `round_`: the
        how-manieth measurement of the same (its key ends in `.round<n>` past the first)."""
        res = run_stage("floor", {"files": [str(f.path) for f in w.files]}, self.scratch)
        key, what = ((f"{w.name}.floor_after", "floor again, after the end to end run") if after
                     else (f"{w.name}.floor", "floor: lxml parse + XSD validate"))
        key = report.round_key(key, round_)
        return self.add(Row(key, w.name, what, res.result["seconds"], **self._io(w),
                            maxrss_mb=res.maxrss_mb, tree_mb=res.tree_mb, process="floor",
                            detail={**res.result, "cpu_s": round(res.cpu, 2),
                                    "machine_cpu_s": round(res.machine_cpu, 2)}))

    def naive(self, w: Workload, label: str | None = None) -> Row:
        db = self.dbs.create()
        try:
            spec = {"files": [{"path": str(f.path), "kind": f.kind} for f in w.files],
                    "sqlalchemy_url": sqlalchemy_url(db)}
            res = run_stage("naive", spec, self.scratch)
        finally:
            self.dbs.drop(db)
        return self.add(Row(f"{label or w.name}.naive", w.name,
                            "naive: xmlschema + pandas.read_xml + to_sql",
                            res.result["seconds"], **self._io(w), maxrss_mb=res.maxrss_mb,
                            process="naive", detail=res.result))

    def staged(self, w: Workload, profile_stage: str | None = None,
               profile_path: Path | None = None) -> list[Row]:
        """The pipeline's tasks one process each, in the order `deflect run` calls them:
        plan -> ingest (fetch, validation, extraction) -> load -> refresh -> publish.

        With `profile_stage`, that stage runs under cProfile and the run stops after it."""
        label = f"{w.name}-staged" + (f"-profile-{profile_stage}" if profile_stage else "")
        d = self.run_dir(label)
        db = self.dbs.create()
        rows: list[Row] = []
        try:
            config = self.write_config(w, d, db)
            base = {"config": str(config), "as_of": w.as_of}
            run_id = None
            for stage in ("plan", "ingest", "load", "refresh", "publish"):
                spec = {**base, "run_id": run_id}
                if stage == profile_stage:
                    spec["profile"] = str(profile_path)
                res = run_stage(stage, spec, self.scratch)
                run_id = run_id or res.result["run_id"]
                if stage == profile_stage:
                    return [Row(f"{w.name}.profile.{stage}", w.name, f"{stage} under cProfile",
                                res.result["seconds"], maxrss_mb=res.maxrss_mb,
                                detail=res.result)]
                rows += self._stage_rows(w, stage, res)
            rows.append(Row(f"{w.name}.staged.total", w.name, "pipeline, sum of the stages",
                            sum(r.seconds for r in rows), **self._io(w),
                            maxrss_mb=max(r.maxrss_mb or 0 for r in rows)))
            for r in rows:
                self.add(r)
            batches = sorted(p.parent for p in (d / "work" / "runs" / run_id / "batches")
                             .glob("*/batch.json"))
            rows.append(self.bare_copy(w, batches))
            rows.append(self.openssh(w, d))
            return rows
        finally:
            self.dbs.drop(db)
            self.done_with(d)

    def _stage_rows(self, w: Workload, stage: str, res) -> list[Row]:
        io = self._io(w)
        r = res.result
        if stage == "ingest":
            split = r["seconds_by_stage"]
            labels = {"fetch": "fetch: SFTP (paramiko) into landing",
                      "validation": "validation: F/S/B rules, XSD per record",
                      "extraction": "extraction: canonical rows, quarantine",
                      "bookkeeping": "ingest bookkeeping"}
            return [Row(f"{w.name}.stage.{k}", w.name, labels[k], split.get(k, 0.0), **io,
                        maxrss_mb=res.maxrss_mb, process="ingest", detail=r if k == "fetch" else {})
                    for k in labels]
        labels = {"plan": "plan: start run, list sources (SFTP)",
                  "load": "load: COPY + set-based upserts",
                  "refresh": "rules and linking (refresh marts)",
                  "publish": "publish: expectations + report"}
        # XML megabytes mean nothing past ingestion: records per second only
        return [Row(f"{w.name}.stage.{stage}", w.name, labels[stage], r["seconds"],
                    records=io["records"], maxrss_mb=res.maxrss_mb, process=stage, detail=r)]

    def bare_copy(self, w: Workload, batch_dirs: list[Path]) -> Row:
        db = self.dbs.create()
        try:
            res = run_stage("copy", {"warehouse": db, "batch_dirs": [str(b) for b in batch_dirs]},
                            self.scratch)
        finally:
            self.dbs.drop(db)
        return self.add(Row(f"{w.name}.bare_copy", w.name, "bare COPY of the same CSV rows",
                            res.result["copy_seconds"], **self._io(w), maxrss_mb=res.maxrss_mb,
                            process="copy", detail=res.result))

    def openssh(self, w: Workload, d: Path) -> Row:
        by_dir: dict[str, list[str]] = defaultdict(list)
        for f in w.files:
            # what the pipeline downloads: the data files and the TraCS sidecars it reads
            names = [f.path.name] + ([Path(f.companion).name] if f.kind == "tracs"
                                     and f.companion else [])
            by_dir[str(f.path.parent.resolve())] += names
        s = self.server
        spec = {"host": s.host, "port": s.port, "user": s.username, "key_file": s.key_file,
                "host_key": s.host_key, "dest": str(d / "openssh"),
                "sources": [{"dir": k, "files": v} for k, v in sorted(by_dir.items())]}
        res = run_stage("openssh", spec, self.scratch)
        shutil.rmtree(d / "openssh", ignore_errors=True)
        return self.add(Row(f"{w.name}.openssh_sftp", w.name, "OpenSSH sftp client, same files",
                            res.result["seconds"], **self._io(w), maxrss_mb=res.maxrss_mb,
                            process="openssh", detail=res.result))

    def end_to_end(self, w: Workload, serial: bool = False, *, label: str | None = None,
                   key: str | None = None, warehouse: str | None = None, keep: bool = False,
                   what: str | None = None, as_of: str | None = None) -> Row:
        """`deflect run` as an operator runs it: SFTP sources, PostgreSQL, a fresh warehouse.

        `serial`: one process, one file at a time (`--workers 1`, `file_shards: 1`), the
        pipeline without its use of the other cores, for comparison in the same run.
        `warehouse`: run on this database instead of a fresh one; `keep`: do not drop the
        database afterwards (its URL is in the row's detail, `warehouse`). `key` names the row's
        workload (default: the view's name); `as_of`: instead of the view's own (the day
        after its last night)."""
        label = label or ("e2e_serial" if serial else "e2e")
        d = self.run_dir(f"{w.name}-{label}")
        db = warehouse or self.dbs.create()
        try:
            config = self.write_config(w, d, db)
            if serial:
                data = yaml.safe_load(config.read_text())
                config.write_text(yaml.safe_dump({**data, "file_shards": 1}, sort_keys=False))
            spec = {"config": str(config), "as_of": as_of or w.as_of,
                    "workers": 1 if serial else None}
            res = run_stage("e2e", spec, self.scratch)
            # its log, with a timestamp per step: where a slow row's time went
            logs = self.data_dir / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            (logs / f"{w.name}-{label}.log").write_text(res.stdout + res.stderr)
            if res.result["exit_status"] != 0:
                raise BenchError(f"deflect run exited with {res.result['exit_status']}: "
                                 f"{res.stdout[-2000:]}")
            summaries = sorted((d / "work" / "runs").glob("*/summary.json"))
            summary = json.loads(summaries[-1].read_text())
            detail = {
                "records_loaded": sum(s["records_loaded"] for s in summary["sources"].values()),
                "records_quarantined": sum(s["records_quarantined"]
                                           for s in summary["sources"].values()),
                "files_loaded": sum(s["files_loaded"] for s in summary["sources"].values()),
                "failed_sources": summary["failed_sources"],
                "cpu_s": round(res.cpu, 2),
                "machine_cpu_s": round(res.machine_cpu, 2),
                "cores": os.cpu_count(),
            }
            if keep:
                detail["warehouse"] = db
        finally:
            if not keep:
                self.dbs.drop(db)
            self.done_with(d)
        what = what or ("end to end, one process: `deflect run --workers 1`, file_shards 1"
                        if serial else "end to end: `deflect run`")
        return self.add(Row(f"{key or w.name}.{label}", key or w.name, what, res.wall,
                            **self._io(w), maxrss_mb=res.maxrss_mb, tree_mb=res.tree_mb,
                            process="deflect run", detail=detail))

    def empty_night(self, w: Workload, rounds: int = 1) -> list[Row]:
        """The fixed cost of a night: `deflect run` again over the same drop and warehouse
        (nothing new on any server), beside a process that only imports the pipeline's
        modules; `rounds` such pairs, alternated (keys of round n > 1 end in `.round<n>`)."""
        d = self.run_dir(f"{w.name}-empty")
        db = self.dbs.create()
        pairs = []
        try:
            config = self.write_config(w, d, db)
            spec = {"config": str(config), "as_of": w.as_of}
            for n in range(rounds + 1):  # the first run loads the night: not measured
                res = run_stage("e2e", spec, self.scratch)
                if res.result["exit_status"] != 0:
                    raise BenchError(f"deflect run exited with {res.result['exit_status']}: "
                                     f"{res.stdout[-2000:]}")
                if n:
                    pairs.append((res, run_stage("imports", {}, self.scratch)))
        finally:
            self.dbs.drop(db)
            self.done_with(d)
        rows = []
        for n, (empty, imports) in enumerate(pairs, start=1):
            rows += [
                self.add(Row(report.round_key(f"{w.name}.e2e_empty", n), w.name,
                             "end to end, nothing new: `deflect run` again over the same drop",
                             empty.wall, maxrss_mb=empty.maxrss_mb, tree_mb=empty.tree_mb,
                             process="deflect run", detail={"cpu_s": round(empty.cpu, 2)})),
                self.add(Row(report.round_key(f"{w.name}.imports", n), w.name,
                             "Python start and the pipeline's imports alone", imports.wall,
                             maxrss_mb=imports.maxrss_mb, process="imports",
                             detail={"cpu_s": round(imports.cpu, 2)})),
            ]
        return rows

    def single_file(self, w: Workload) -> list[Row]:
        """Peak memory of one large file: the floor, and the pipeline's ingest of it alone."""
        rows = [self.floor(w)]
        d = self.run_dir(f"{w.name}-ingest")
        db = self.dbs.create()
        try:
            config = self.write_config(w, d, db)
            plan = run_stage("plan", {"config": str(config), "as_of": w.as_of, "run_id": None},
                             self.scratch)
            res = run_stage("ingest", {"config": str(config), "as_of": w.as_of,
                                       "run_id": plan.result["run_id"]}, self.scratch)
        finally:
            self.dbs.drop(db)
            self.done_with(d)
        rows.append(self.add(Row(f"{w.name}.ingest", w.name,
                                 "ingest one file: fetch, validation, extraction",
                                 res.result["seconds"], **self._io(w), maxrss_mb=res.maxrss_mb,
                                 tree_mb=res.tree_mb, process="ingest", detail=res.result)))
        return rows
