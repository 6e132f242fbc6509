"""Progress of `deflect run` / `deflect backfill`: per batch from process_batches, a tqdm bar on
a terminal (written to a file standing in for one), INFO log lines anywhere else."""
from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

import pytest

from deflect import pipeline
from deflect.core.runs import run_dir
from deflect.progress import RunProgress, run_progress

MB = 1024 * 1024
# (source, batch id, files, bytes)
PLAN = [("tracs", "r-tracs-0000", 2, 6 * MB), ("meg-a", "r-meg-a-0000", 3, 1 * MB),
        ("meg-a", "r-meg-a-0001", 1, 1 * MB)]


@pytest.fixture
def config(tmp_path, monkeypatch):
    config = SimpleNamespace(work_dir=tmp_path / "work")
    bdir = run_dir(config, "r") / "batches"
    bdir.mkdir(parents=True)
    for _, batch_id, files, nbytes in PLAN:
        sizes = [nbytes // files] * files
        sizes[0] += nbytes - sum(sizes)
        (bdir / f"{batch_id}.json").write_text(json.dumps(
            {"batch_id": batch_id, "files": [{"name": f"f{i}", "size": s}
                                              for i, s in enumerate(sizes)]}))
    monkeypatch.setattr(pipeline, "process_batch", lambda config, run_id, batch_id: "ok")
    return config


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        self.now += 1.0  # one second per look: rates are predictable
        return self.now


@pytest.mark.parametrize("workers", [1, 2])
def test_process_batches_reports_each_batch_with_its_files_and_bytes(config, workers):
    events = []
    pipeline.process_batches(config, "r", [(s, b) for s, b, *_ in PLAN], workers=workers,
                             progress=lambda s: events.append(("done", s)),
                             on_batch=lambda *a: events.append(a))
    assert sorted(e for e in events if len(e) == 4) == sorted(PLAN)
    assert sorted(e[1] for e in events if e[0] == "done") == ["meg-a", "tracs"]
    # a source is reported done after its last batch, never before
    for source in ("meg-a", "tracs"):
        last = max(i for i, e in enumerate(events) if len(e) == 4 and e[0] == source)
        assert events.index(("done", source)) == last + 1


def test_one_argument_progress_still_works_without_on_batch(config):
    sources = []
    pipeline.process_batches(config, "r", [(s, b) for s, b, *_ in PLAN], progress=sources.append)
    assert sorted(sources) == ["meg-a", "tracs"]


def test_a_terminal_gets_a_bar_over_the_bytes_with_the_source(config):
    out = io.StringIO()
    reporter = RunProgress(["tracs", "meg-a"], stream=out, tty=True, clock=Clock())
    reporter.planned(PLAN)
    assert reporter.bar.total == 8 * MB
    pipeline.process_batches(config, "r", [(s, b) for s, b, *_ in PLAN], workers=1,
                             progress=reporter.source_done, on_batch=reporter.batch_done)
    assert reporter.bar.n == 8 * MB
    reporter.close()
    text = out.getvalue()
    assert "8.00M/8.00M" in text  # tqdm's bytes done / total
    assert "B/s" in text  # and its rate
    assert "meg-a 2/2 batches, files 6/6" in text
    assert "[1/2] source" in text and "[2/2] source" in text
    assert "100%" in text


def test_not_a_terminal_logs_one_line_per_batch_with_the_rate(config, caplog):
    caplog.set_level(logging.INFO, logger="deflect.progress")
    out = io.StringIO()
    reporter = RunProgress(["tracs", "meg-a"], stream=out, clock=Clock())  # StringIO: no tty
    assert not reporter.tty
    reporter.planned(PLAN)
    pipeline.process_batches(config, "r", [(s, b) for s, b, *_ in PLAN], workers=1,
                             progress=reporter.source_done, on_batch=reporter.batch_done)
    reporter.close()
    assert out.getvalue() == ""  # no bar, no control characters in a log file
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "3 batches to process: 6 files, 8.0 MB"
    batch_lines = [m for m in lines if " done (" in m]
    assert len(batch_lines) == 3
    # tracs is the first batch here (sequential: given order); 6 MB in its first second
    assert batch_lines[0] == ("source tracs: batch r-tracs-0000 done (1/1): 2 files, 6.0 MB; "
                              "run 2/6 files, 6.0/8.0 MB, 6.0 MB/s, 2.0 files/s")
    assert "run 6/6 files, 8.0/8.0 MB" in batch_lines[-1]
    assert "[2/2] source meg-a done" in lines


def test_run_progress_wires_pipeline_run_and_closes_the_bar(monkeypatch):
    out = io.StringIO()
    with run_progress(["a"], stream=out, tty=True) as reporter:
        callbacks = reporter.callbacks()
        assert set(callbacks) == {"progress", "on_plan", "on_batch"}
        callbacks["on_plan"]([("a", "b0", 1, MB)])
        logging.getLogger("deflect.pipeline").warning("a line above the bar")
        callbacks["on_batch"]("a", "b0", 1, MB)
        callbacks["progress"]("a")
    assert reporter.bar is None
    assert "1.00M/1.00M" in out.getvalue()
