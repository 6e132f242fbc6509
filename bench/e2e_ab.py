"""`python -m bench.e2e_ab`: `deflect run` on one of the bench's views, this work tree against
another commit, alternately (ABBA...), each run into a fresh PostgreSQL database over the
loopback sshd; the wall time and the CPU of the whole machine (sshd and PostgreSQL included).

    uv run --frozen python -m bench.e2e_ab r10 --ref HEAD~1 --rounds 4

VIEW names a view `python -m bench` left under DATA_DIR/views (x1 and x3 of the nightly set, r1
and r10 of the record-heavy nights, ...). The other commit is checked out with `git worktree
add` into a temporary directory (or given as a directory) and run from there with this
environment's Python (the checkout's packages come first on its path). Both get the report templates the bench compiled
(DATA_DIR/template-cache), as an installed pipeline's work directory keeps them.

Machines here change speed by a fifth within an hour: two bench runs an hour apart compare
nothing, a pair of runs side by side does. A run that fails stops the comparison.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.runner import REPO, BenchError, Databases, child_env, run_measured, use_bytecode_cache
from bench.suite import write_run_config
from bench.workloads import MARKER

DEFAULT_DATA = REPO / "var" / "bench"
_NIGHT = re.compile(r"_(\d{8})")


def view_as_of(view: Path) -> str:
    """The as-of date the bench runs a view with, the day after its last night: the date of its
    newest file (a night's TraCS export is written, and named, the morning after)."""
    files = json.loads((view / MARKER).read_text())["files"]
    last = max(m.group(1) for f in files if (m := _NIGHT.search(Path(f).name)))
    return dt.datetime.strptime(last, "%Y%m%d").date().isoformat()


def checkout(ref: str, into: Path) -> Path:
    """A detached work tree of `ref` at `into`."""
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(into), ref], cwd=REPO,
                   check=True, capture_output=True)
    return into


def remove_checkout(path: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO,
                   capture_output=True, check=False)


def one_run(tree: Path, view: Path, server, dbs: Databases, scratch: Path,
            templates: Path, as_of: str) -> tuple[float, float]:
    """`deflect run` of `tree`'s code over `view`: (wall s, machine CPU s)."""
    d = Path(tempfile.mkdtemp(dir=scratch))
    db = dbs.create()
    try:
        config = write_run_config(d, view / "deflect.yaml", server, db, templates)
        spec = d / "spec.json"
        spec.write_text(json.dumps({"config": str(config), "as_of": as_of}))
        res = run_measured([sys.executable, "-m", "bench.child", "e2e", str(spec)],
                           env=child_env(), cwd=tree)
        if res.returncode != 0:
            raise BenchError(f"deflect run in {tree} failed: {res.stderr.strip()[-2000:]}")
        return res.wall, res.machine_cpu
    finally:
        dbs.drop(db)
        shutil.rmtree(d, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.e2e_ab", description=__doc__.split("\n")[0])
    ap.add_argument("view", help="a view's name under DATA_DIR/views (x1, r10, ...)")
    ap.add_argument("--ref", default="HEAD~1",
                    help="the commit to compare with, or a directory holding a checkout")
    ap.add_argument("--rounds", type=int, default=4, help="runs of each, alternated")
    ap.add_argument("--as-of", help="default: the date of the view's newest file")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args(argv)
    from devtools.local_sftp import serve

    data = args.data_dir.resolve()
    view = data / "views" / args.view
    if not (view / "deflect.yaml").exists():
        ap.error(f"no view {args.view!r} under {data / 'views'}: run `python -m bench` first")
    as_of = args.as_of or view_as_of(view)
    dbs = Databases(args.pg_url)
    dbs.check()
    use_bytecode_cache(data / "pycache")
    scratch = Path(tempfile.mkdtemp(prefix="e2e-ab-"))
    given = Path(args.ref)
    other = given.resolve() if given.is_dir() else checkout(args.ref, scratch / "ref")
    trees = {args.ref: other, "work tree": REPO}
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
    try:
        with serve(data) as server:
            for i in range(args.rounds):
                for label in list(trees)[::1 if i % 2 else -1]:
                    wall, cpu = one_run(trees[label], view, server, dbs, scratch,
                                        data / "template-cache", as_of)
                    times[label].append((wall, cpu))
                    print(f"round {i + 1} {label}: {wall:.2f} s, machine CPU {cpu:.2f} s",
                          flush=True)
    except BenchError as exc:
        print(f"python -m bench.e2e_ab: {exc}", file=sys.stderr)
        return 1
    finally:
        if not given.is_dir():
            remove_checkout(other)
        shutil.rmtree(scratch, ignore_errors=True)
        dbs.drop_all()
    for label, values in times.items():
        walls, cpus = zip(*values)
        print(f"{label:>10}: wall median {statistics.median(walls):.2f} s "
              f"(min {min(walls):.2f}), machine CPU median {statistics.median(cpus):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
