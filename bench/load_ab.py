"""`python -m bench.load_ab`: the load of one run's batches, this code against another commit's,
timed alternately in one process, each into a fresh migrated database, beside a bare COPY of the
same CSV files; and the two loads' results compared row for row.

    uv run --frozen python -m bench.load_ab BATCHES_DIR --ref HEAD~1 --rounds 7

BATCHES_DIR holds a run's batch directories (`<work>/runs/<run_id>/batches`, e.g. from
`python -m bench --keep-runs`). The other commit's `warehouse/load.py` is read with `git show`
and imported beside this one (the rest of the package is shared). Time is the wall clock and the
CPU seconds of this process plus, on PostgreSQL, its server backend (`/proc/<pid>/schedstat`:
the server runs on this machine). Differences in any staging or meta table, or in the
`LoadResult`s, fail the run.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def load_module_at(ref: str):
    """warehouse/load.py as of git `ref`, imported as its own module."""
    root = Path(__file__).resolve().parent.parent
    text = subprocess.run(["git", "show", f"{ref}:warehouse/load.py"], cwd=root, check=True,
                          capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "load_ref.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("warehouse.load_ref", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _backend_cpu(wh) -> float:
    """CPU seconds of the PostgreSQL backend serving `wh` (0 on DuckDB)."""
    if wh.dialect != "postgresql":
        return 0.0
    pid = wh.scalar("SELECT pg_backend_pid()")
    with open(f"/proc/{pid}/schedstat") as fh:
        return int(fh.read().split()[0]) / 1e9


class Databases:
    def __init__(self, backend: str, scratch: Path):
        self.backend, self.scratch = backend, scratch

    def create(self) -> str:
        if self.backend == "duckdb":
            return f"duckdb://{self.scratch / (uuid.uuid4().hex + '.duckdb')}"
        import psycopg

        name = f"load_ab_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return PG_SERVER.rsplit("/", 1)[0] + "/" + name

    def drop(self, url: str) -> None:
        if self.backend == "duckdb":
            Path(url[len("duckdb://"):]).unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def contents(wh, exclude: tuple[str, ...] = ()) -> dict:
    """Every staging and meta table's rows, sorted, as text (but the migrations' own table and
    those named in `exclude`)."""
    out = {}
    for schema, table in wh.query(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'meta') AND table_type = 'BASE TABLE' "
            "ORDER BY 1, 2"):
        if table == "schema_migrations" or table in exclude:
            continue
        rows = wh.query(f"SELECT * FROM {schema}.{table}")
        out[f"{schema}.{table}"] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def timed_load(dbs: Databases, module, batch_dirs: list[Path]):
    from adapters.registry import staging_tables
    from warehouse import connect, migrate

    url = dbs.create()
    try:
        with connect(url) as wh:
            migrate(wh)
        with connect(url) as wh:
            kinds = staging_tables()
            server0, cpu0, wall0 = _backend_cpu(wh), time.process_time(), time.perf_counter()
            results = module.load_batches(wh, kinds, batch_dirs)
            wall = time.perf_counter() - wall0
            server = _backend_cpu(wh) - server0
            return wall, time.process_time() - cpu0 + server, server, results, contents(wh)
    finally:
        dbs.drop(url)


def timed_copy(dbs: Databases, batch_dirs: list[Path]):
    """The bench's bare COPY (bench.child.stage_copy): every CSV into all-text tables."""
    from adapters.registry import staging_columns
    from deflect.core.canonical import BOOKKEEPING
    from warehouse import connect
    from warehouse.backend import csv_header, quote_ident

    tables = {**staging_columns(), **BOOKKEEPING}
    url = dbs.create()
    try:
        with connect(url) as wh:
            wh.execute("CREATE SCHEMA bare")
            for name, cols in tables.items():
                wh.execute(f"CREATE TABLE bare.{name} ("
                           + ", ".join(f"{quote_ident(c)} text" for c in cols) + ")")
            server0, cpu0, wall0 = _backend_cpu(wh), time.process_time(), time.perf_counter()
            for bdir in batch_dirs:
                for name in tables:
                    path = bdir / f"{name}.csv"
                    if path.exists() and path.stat().st_size > 0:
                        wh.copy_csv(f"bare.{name}", path, csv_header(path))
            wall = time.perf_counter() - wall0
            server = _backend_cpu(wh) - server0
            return wall, time.process_time() - cpu0 + server, server
    finally:
        dbs.drop(url)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load_ab", description=__doc__.split("\n")[0])
    ap.add_argument("batches", type=Path, help="a run's batches directory")
    ap.add_argument("--ref", default="HEAD~1", help="the commit to compare with")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--backends", default="postgresql,duckdb")
    args = ap.parse_args(argv)

    import warehouse.load as current  # this work tree's, beside the other commit's

    ref = load_module_at(args.ref)
    batch_dirs = sorted(p.parent for p in args.batches.glob("*/batch.json"))
    print(f"{len(batch_dirs)} batches, {args.ref} against the work tree, "
          f"load average {os.getloadavg()[0]:.2f}")
    failed = False
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as scratch:
            dbs = Databases(backend, Path(scratch))
            # label -> [(wall, CPU of both processes, CPU of the server's)]
            times: dict[str, list[tuple[float, float, float]]] = {"ref": [], "new": [],
                                                                  "copy": []}
            for i in range(args.rounds):
                for label, module in (("ref", ref), ("new", current))[::(1 if i % 2 else -1)]:
                    wall, cpu, server, results, rows = timed_load(dbs, module, batch_dirs)
                    times[label].append((wall, cpu, server))
                    if i == 0:
                        if label == "ref":
                            ref_out = (results, rows)
                        else:
                            new_out = (results, rows)
                if backend == "postgresql":
                    times["copy"].append(timed_copy(dbs, batch_dirs))
            same_rows = ref_out[1] == new_out[1]
            same_results = [vars(r) for r in ref_out[0]] == [vars(r) for r in new_out[0]]
            failed |= not (same_rows and same_results)
            staged = sum(len(v) for k, v in new_out[1].items() if k.startswith("staging."))
            print(f"{backend}: {staged} staged rows; tables equal: {same_rows}, "
                  f"results equal: {same_results}")
            for label, values in times.items():
                if not values:
                    continue
                walls, cpus, servers = zip(*values)
                print(f"  {label:5} wall {statistics.median(walls):.3f} s "
                      f"(min {min(walls):.3f}, max {max(walls):.3f}); "
                      f"CPU {statistics.median(cpus):.3f} s (min {min(cpus):.3f}), "
                      f"of it the server's {statistics.median(servers):.3f} s "
                      f"(min {min(servers):.3f})")
                print("        wall/CPU/server: "
                      + " ".join(f"{w:.3f}/{c:.3f}/{s:.3f}" for w, c, s in values))
            if times["copy"]:
                copy_wall = statistics.median(v[0] for v in times["copy"])
                copy_cpu = statistics.median(v[1] for v in times["copy"])
                for label in ("ref", "new"):
                    wall = statistics.median(v[0] for v in times[label])
                    cpu = statistics.median(v[1] for v in times[label])
                    print(f"  bare COPY / {label}: {copy_wall / wall:.2f}x wall, "
                          f"{copy_cpu / cpu:.2f}x CPU")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
