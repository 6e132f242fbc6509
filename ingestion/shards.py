"""Validating and extracting one large file on several cores.

A nightly TraCS export is one file of hundreds of MB, and checking it record by record (XSD per
record, rules, C14N, hashing) is the longest step of a night; one process would leave the other
cores idle. After pass 1 and the root checks (ingestion/document.py), the process forks n - 1
children; each runs pass 2 over the whole file but validates and extracts only the records whose
index is its own modulo n (parsing is the cheap part). Everything structural (containers, stray
content, limits) is checked by every shard alike, so a file-level finding is found by all of them.
Each child hands its rows and quarantined records over as files (FileSpool.dump); the parent
takes them into the file's spool (FileSpool.absorb), so the batch receives exactly what a single
process would have written, the rows in another order.

Children are plain `os.fork()`s (this may itself run in a pool worker, whose children
multiprocessing would refuse) that only parse and write files and leave with `os._exit`. A child
that fails makes the whole file run again in one process: nothing is lost or counted twice.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from deflect.core.processes import die_with_parent
from ingestion.batch import FileSpool
from ingestion.document import DocumentProcessor, DocumentResult
from ingestion.findings import Finding
from ingestion.xmlsafe import FileRejected

log = logging.getLogger(__name__)

# Below this a file is checked in one process: a fork and a second parse cost more than they save.
SHARD_MIN_BYTES = 64 * 1024 * 1024
MAX_SHARDS = 4


def default_shards() -> int:
    """One shard per core, at most MAX_SHARDS."""
    return max(1, min(MAX_SHARDS, os.cpu_count() or 1))


class ShardFailed(RuntimeError):
    """A child shard did not finish; the caller runs the file unsharded."""


def _result_json(result: DocumentResult) -> dict:
    return {"records_loaded": result.records_loaded,
            "records_quarantined": result.records_quarantined,
            "records_already_accepted": result.records_already_accepted,
            "accepted": result.accepted,
            "file_findings": [f.__dict__ for f in result.file_findings]}


def _child(proc: DocumentProcessor, k: int, n: int, out: Path) -> None:
    """Runs in the forked child: shard k of n into `out`, then leaves without cleanup."""
    code = 1
    try:
        spool = FileSpool(proc.sink.writer, proc.sink.file_name, proc.sink.file_sha256)
        spool.dir = out / "raw"
        proc.sink, proc.shard = spool, (k, n)
        result = proc.pass2()
        spool.dump(out)
        (out / "result.json").write_text(json.dumps(_result_json(result)), encoding="utf-8")
        code = 0
    except BaseException:  # noqa: BLE001 - reported to the parent by the exit status
        code = 1
    finally:
        os._exit(code)


def run_sharded(proc: DocumentProcessor, n: int) -> DocumentResult:
    """Both passes of `proc` over its file with n shards; its sink gets every shard's output.

    Raises ShardFailed when a child did not finish (its partial output is removed)."""
    try:
        proc.prepare()
    except FileRejected as rej:
        proc.result.file_findings.append(rej.finding)
        return proc.result
    spool: FileSpool = proc.sink
    base = spool.dir / "shards"
    children = []
    for k in range(1, n):
        out = base / str(k)
        out.mkdir(parents=True, exist_ok=True)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which leaves with os._exit
            die_with_parent()
            _child(proc, k, n, out)
        children.append((pid, out))
    try:
        proc.shard = (0, n)
        result = proc.pass2()
    finally:
        statuses = [os.waitpid(pid, 0)[1] for pid, _ in children]
    failed = [k for k, status in enumerate(statuses, 1)
              if os.waitstatus_to_exitcode(status) != 0
              or not (base / str(k) / "result.json").exists()]
    if failed:
        shutil.rmtree(base, ignore_errors=True)
        raise ShardFailed(f"{proc.ctx.file_name}: shard {failed[0]} of {n} did not finish")
    for _, out in children:
        other = json.loads((out / "result.json").read_text(encoding="utf-8"))
        result.records_loaded += other["records_loaded"]
        result.records_quarantined += other["records_quarantined"]
        result.records_already_accepted += other["records_already_accepted"]
        result.accepted += [tuple(pair) for pair in other["accepted"]]
        if not result.file_findings:  # every shard sees the same structure; keep one account
            result.file_findings = [Finding(**f) for f in other["file_findings"]]
        spool.absorb(out)
    return result
