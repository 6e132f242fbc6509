"""Running measured processes (bench.child, one stage each) with their wall time and peak
memory, and the scratch PostgreSQL databases each measurement starts from."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.child import RESULT_PREFIX

REPO = Path(__file__).resolve().parent.parent


class BenchError(RuntimeError):
    """A measured process failed: the bench stops rather than print a wrong figure."""


@dataclass
class ProcResult:
    wall: float  # seconds from exec to exit, interpreter start and imports included
    maxrss_mb: float  # the process's peak resident set, as the child reports it (VmHWM)
    returncode: int
    result: dict = field(default_factory=dict)  # a stage child's BENCH-RESULT
    stdout: str = ""
    stderr: str = ""
    # CPU seconds (user + system) of the process and every process it waited for (workers,
    # shards): the work done, which other load on the machine changes far less than the wall time
    cpu: float = 0.0
    # peak proportional set size of the process and all its descendants together (workers,
    # shards, forked report pages), sampled every TREE_SAMPLE_S: what the run needs of the
    # machine, where maxrss_mb is its largest single process
    tree_mb: float = 0.0
    # CPU seconds of the whole machine while it ran, every process on every core: what `cpu`
    # leaves out, the loopback sshd's encryption and the PostgreSQL server, included; and
    # whatever else ran meanwhile (the bench runs one process at a time)
    machine_cpu: float = 0.0


TREE_SAMPLE_S = 0.5


def machine_busy_s() -> float:
    """CPU seconds every core of this machine has spent busy since boot (/proc/stat: user, nice,
    system, irq and softirq; idle, I/O wait and the time the hypervisor gave other guests
    (steal) are not this machine's work); 0 where there is no /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _children_of() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def tree_pss_mb(pid: int) -> float:
    """Proportional set size of `pid` and its descendants, MB (Linux; 0 where unreadable).
    PSS shares a page among the processes mapping it, so forked workers are not counted
    twice for what they share with their parent."""
    children = _children_of()
    todo, total = [pid], 0
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(TREE_SAMPLE_S):
            self.peak = max(self.peak, tree_pss_mb(self.pid))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(cmd: list[str], env: dict | None = None, cwd: Path = REPO) -> ProcResult:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        cpu, machine = _children_cpu(), machine_busy_s()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env,
                                stdin=subprocess.DEVNULL)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        machine = machine_busy_s() - machine
        tree = sampler.stop()
        out.seek(0)
        err.seek(0)
        return ProcResult(wall, 0.0, code, {}, out.read(), err.read(),
                          cpu=_children_cpu() - cpu, tree_mb=round(tree, 1),
                          machine_cpu=machine)


# Bytecode for the measured processes, outside the source tree. An installed pipeline imports
# compiled modules (the production image sets UV_COMPILE_BYTECODE=1); without them every process
# would spend seconds compiling Airflow, Great Expectations and pandas, a cost of the
# environment rather than of the pipeline.
PYCACHE_ENV = "PYTHONPYCACHEPREFIX"
_pycache: Path | None = None


def use_bytecode_cache(directory: Path) -> None:
    global _pycache
    _pycache = directory


def child_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DEFLECT_PERSON_KEY", "bench-person-key")
    if _pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env[PYCACHE_ENV] = str(_pycache)
    return env


def run_stage(stage: str, spec: dict, scratch: Path) -> ProcResult:
    """One bench.child stage in a new interpreter; raises BenchError when it fails."""
    scratch.mkdir(parents=True, exist_ok=True)
    spec_path = scratch / f"spec-{stage}-{uuid.uuid4().hex[:8]}.json"
    spec_path.write_text(json.dumps(spec, default=str))
    res = run_measured([sys.executable, "-m", "bench.child", stage, str(spec_path)],
                       env=child_env())
    spec_path.unlink(missing_ok=True)
    lines = [line for line in res.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if res.returncode != 0 or not lines:
        raise BenchError(f"stage {stage} failed ({res.returncode}): {res.stderr.strip()[-3000:]}")
    res.result = json.loads(lines[-1][len(RESULT_PREFIX):])
    res.maxrss_mb = res.result["maxrss_mb"]
    return res


# -- scratch databases ------------------------------------------------------------------------------

def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


class Databases:
    """Fresh PostgreSQL databases `bench_<pid>_<n>`, every one dropped by `drop_all`."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []
        # databases one workload leaves for a later one of the same invocation: name -> (url,
        # what it holds); dropped with the others by drop_all
        self.kept: dict[str, tuple] = {}

    def check(self) -> None:
        import psycopg

        try:
            psycopg.connect(self.admin_url, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            raise BenchError(f"PostgreSQL is not reachable at {self.admin_url}: {exc}") from None

    def create(self) -> str:
        import psycopg
        from psycopg import sql

        name = f"bench_{os.getpid()}_{len(self.created)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return with_database(self.admin_url, name)

    def copy(self, url: str, name: str) -> str:
        """A copy of database `url` named `name`, not dropped with the others (PostgreSQL
        copies it as a template: nothing may be connected to it meanwhile)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(urlsplit(url).path.lstrip("/"))))
        return with_database(self.admin_url, name)

    def copy_new(self, url_or_name: str) -> str:
        """A fresh database `bench_<pid>_<n>` copied from database `url_or_name` (a name or a
        URL), dropped with the others."""
        name = f"bench_{os.getpid()}_{len(self.created)}"
        source = urlsplit(url_or_name).path.lstrip("/") if "://" in url_or_name else url_or_name
        self.copy(with_database(self.admin_url, source), name)
        self.created.append(name)
        return with_database(self.admin_url, name)

    def drop(self, url: str) -> None:
        import psycopg
        from psycopg import sql

        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def drop_all(self) -> None:
        for name in self.created:
            try:
                self.drop(with_database(self.admin_url, name))
            except Exception as exc:  # noqa: BLE001 - keep dropping the others
                print(f"bench: could not drop database {name}: {exc}", file=sys.stderr)
        self.created = []


def sqlalchemy_url(url: str) -> str:
    """The same PostgreSQL URL for SQLAlchemy's psycopg 3 dialect."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url
