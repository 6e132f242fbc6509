"""`deflect run`'s batch scheduling: every batch processed once, in worker processes when asked,
one failure recorded without stopping the others, progress once per source after its last batch."""
from __future__ import annotations

import json
import logging
import os
from types import SimpleNamespace

import pytest

from deflect import pipeline
from deflect.core.runs import run_dir

BATCHES = [("tracs", "r-tracs-0000"), ("meg-a", "r-meg-a-0000"), ("meg-a", "r-meg-a-0001"),
           ("meg-b", "r-meg-b-0000"), ("meg-c", "r-meg-c-0000")]
SIZES = {"r-tracs-0000": 700, "r-meg-a-0000": 5, "r-meg-a-0001": 9, "r-meg-b-0000": 3,
         "r-meg-c-0000": 1}


@pytest.fixture
def config(tmp_path, monkeypatch):
    config = SimpleNamespace(work_dir=tmp_path / "work")
    bdir = run_dir(config, "r") / "batches"
    bdir.mkdir(parents=True)
    for _, batch_id in BATCHES:
        (bdir / f"{batch_id}.json").write_text(json.dumps(
            {"batch_id": batch_id, "files": [{"name": "x", "size": SIZES[batch_id]}]}))
    marks = tmp_path / "done"
    marks.mkdir()

    def fake_process(config, run_id, batch_id):
        if batch_id == "r-meg-b-0000":
            raise RuntimeError("the source went away")
        (marks / batch_id).write_text(str(os.getpid()))
        return "ok"

    # fork: the workers see this patch as the parent does
    monkeypatch.setattr(pipeline, "process_batch", fake_process)
    config.marks = marks
    return config


@pytest.mark.parametrize("workers", [1, 2])
def test_every_batch_once_failure_logged_progress_per_source(config, workers, caplog):
    seen = []
    caplog.set_level(logging.ERROR, logger="deflect.pipeline")

    def progress(source):
        # a source is reported only when every one of its batches has finished
        finished = {p.name for p in config.marks.iterdir()}
        ok = [b for s, b in BATCHES if s == source and b != "r-meg-b-0000"]
        assert set(ok) <= finished
        seen.append(source)

    waited = []
    pipeline.process_batches(config, "r", BATCHES, workers=workers, progress=progress,
                             while_waiting=lambda: waited.append(True))
    assert sorted(p.name for p in config.marks.iterdir()) == sorted(
        b for _, b in BATCHES if b != "r-meg-b-0000")
    assert sorted(seen) == ["meg-a", "meg-b", "meg-c", "tracs"]
    assert any("r-meg-b-0000 failed: RuntimeError: the source went away" in r.getMessage()
               for r in caplog.records)
    pids = {int(p.read_text()) for p in config.marks.iterdir()}
    if workers == 1:
        assert pids == {os.getpid()} and waited == []
    else:
        assert os.getpid() not in pids and waited == [True]


def test_a_failing_head_start_does_not_fail_the_batches(config, caplog):
    def broken():
        raise ImportError("no GX here")

    pipeline.process_batches(config, "r", BATCHES, workers=2, while_waiting=broken)
    assert len(list(config.marks.iterdir())) == 4
    assert any("no GX here" in r.getMessage() for r in caplog.records)


def test_largest_batch_first(config):
    order = pipeline.largest_first(config, "r", BATCHES)
    assert [b for _, b in order] == ["r-tracs-0000", "r-meg-a-0001", "r-meg-a-0000",
                                      "r-meg-b-0000", "r-meg-c-0000"]


def test_default_workers_is_bounded():
    assert 1 <= pipeline.default_workers() <= 4


def test_a_worker_that_dies_fails_its_batches_not_the_run(config, monkeypatch, caplog):
    caplog.set_level(logging.ERROR, logger="deflect.pipeline")

    def dies(config, run_id, batch_id):
        os._exit(3)  # killed mid-batch (out of memory, say)

    monkeypatch.setattr(pipeline, "process_batch", dies)
    seen = []
    pipeline.process_batches(config, "r", BATCHES, workers=2, progress=seen.append)
    # no batch directory: load_run then records each of these sources as failed
    failed = {r.getMessage().split(": batch ")[1].split(" ")[0] for r in caplog.records
              if "failed" in r.getMessage()}
    assert failed == {b for _, b in BATCHES}
    assert sorted(seen) == ["meg-a", "meg-b", "meg-c", "tracs"]


def test_sources_are_planned_at_once_in_source_order_and_no_thread_is_left(monkeypatch):
    """`deflect run` lists its sources in threads; the batch ids come back in source order and
    every thread has ended before the worker processes are forked."""
    import threading
    import time

    names = [f"s{i}" for i in range(12)]
    config = SimpleNamespace(sources=[SimpleNamespace(name=n) for n in names])
    running, most = [0], [0]
    lock = threading.Lock()

    def fake_plan(config, run_id, source_name, ledger=None):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05 if source_name == "s0" else 0.01)  # the first finishes last
        with lock:
            running[0] -= 1
        return [] if source_name == "s3" else [f"{run_id}-{source_name}-0000"]

    monkeypatch.setattr(pipeline, "plan_source", fake_plan)
    before = threading.active_count()
    planned = pipeline.plan_sources(config, "r")
    assert planned == [[] if n == "s3" else [f"r-{n}-0000"] for n in names]
    assert 1 < most[0] <= pipeline.PLAN_THREADS
    assert threading.active_count() == before


def test_the_sources_ledgers_are_read_over_one_connection(monkeypatch):
    """Each listing thread opened a warehouse connection of its own for one query: the
    snapshots are read first, over one connection, and each source is handed its own. When the
    warehouse cannot be read then, each source reads its own (and records its own failure)."""
    import contextlib

    import warehouse

    names = [f"s{i}" for i in range(5)]
    config = SimpleNamespace(sources=[SimpleNamespace(name=n) for n in names], warehouse="wh")
    opened, handed = [], {}

    @contextlib.contextmanager
    def connect(url, read_only=False):
        opened.append((url, read_only))
        yield "connection"

    monkeypatch.setattr(warehouse, "connect", connect)
    monkeypatch.setattr(warehouse, "ledger_snapshot", lambda wh, name: f"ledger of {name}")

    def fake_plan(config, run_id, source_name, ledger=None):
        handed[source_name] = ledger
        return []

    monkeypatch.setattr(pipeline, "plan_source", fake_plan)
    pipeline.plan_sources(config, "r")
    assert opened == [("wh", True)]
    assert handed == {n: f"ledger of {n}" for n in names}

    def unreadable(url, read_only=False):
        raise OSError("the warehouse is locked")

    monkeypatch.setattr(warehouse, "connect", unreadable)
    handed.clear()
    pipeline.plan_sources(config, "r")
    assert handed == {n: None for n in names}
