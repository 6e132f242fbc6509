"""`deflect run` validates the canonical suites in a forked process while it loads the warehouse:
the summary must be the one a single process writes, and a failed background process must
cost nothing but time."""
from __future__ import annotations

import json

import pytest

from adapters.registry import canonical_suites
from deflect.pipeline import report as publish_run
from stewardship import expectations
from tests.stewardship import fixtures

pytestmark = pytest.mark.slow


def _env(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = fixtures.build(tmp_path)
    fixtures.write_run2_individuals(env, "not-a-key")
    return env


def _comparable(summary):
    drop = {"validated_at", "data_docs_index"}
    return {k: v if k != "suites" else [{kk: vv for kk, vv in s.items() if kk != "data_docs_page"}
                                        for s in v]
            for k, v in summary.items() if k not in drop}


def test_background_canonical_suites_give_the_same_summary(tmp_path):
    one = _env(tmp_path / "one")
    alone = expectations.run_expectations(one.config, fixtures.RUN2, canonical_suites())
    two = _env(tmp_path / "two")
    pending = expectations.start_canonical(two.config, fixtures.RUN2, canonical_suites())
    both = expectations.run_expectations(two.config, fixtures.RUN2, canonical_suites(),
                                          canonical=pending)
    assert _comparable(both) == _comparable(alone)
    assert both["failed"] > 0  # the bad sex code and person key: there is something to compare
    assert all((two.report_dir / s["data_docs_page"]).exists() for s in both["suites"])
    assert not pending.out.exists()  # taken and removed


def test_a_failed_background_process_is_replaced_by_validating_here(tmp_path, monkeypatch):
    env = _env(tmp_path)
    real = expectations._validate

    def broken_in_child(ctx, suites, *args):
        if any(s.origin == "canonical" for s in suites) and not getattr(broken_in_child, "ok",
                                                                         False):
            raise RuntimeError("out of memory, say")
        return real(ctx, suites, *args)

    monkeypatch.setattr(expectations, "_validate", broken_in_child)
    pending = expectations.start_canonical(env.config, fixtures.RUN2, canonical_suites())  # the fork sees the patch
    broken_in_child.ok = True  # only the child fails
    result = publish_run(env.config, fixtures.RUN2, canonical=pending)
    assert pending.status == 1
    written = json.loads((env.report_dir / "gx" / "results" / f"{fixtures.RUN2}.json").read_text())
    assert "canonical_tracs_individual" in {s["suite"] for s in written["suites"]}
    assert result["expectations_success"] is False


def test_nothing_is_started_for_a_run_without_canonical_rows(tmp_path):
    """An empty night: no process importing GX to find nothing to check."""
    env = fixtures.build(tmp_path)
    assert expectations.start_canonical(env.config, fixtures.RUN1, canonical_suites()) is None
    batch = env.config.work_dir / "runs" / fixtures.RUN1 / "batches" / "b0000"
    batch.mkdir(parents=True)
    (batch / "stg_tracs__individual.csv").write_text("seq,sex\n", encoding="utf-8")  # header only
    assert expectations.start_canonical(env.config, fixtures.RUN1, canonical_suites()) is None
    (batch / "stg_tracs__individual.csv").write_text("seq,sex\n1,M\n", encoding="utf-8")
    pending = expectations.start_canonical(env.config, fixtures.RUN1, canonical_suites())
    assert pending is not None
    pending.discard()


def test_the_background_process_runs_behind_the_load(tmp_path, monkeypatch):
    """The load and the refresh are the night's critical path: the process checking the
    canonical suites beside them runs at a lower priority (a higher niceness)."""
    import os

    env = _env(tmp_path)
    seen = tmp_path / "niceness"

    def note_niceness(ctx, suites, *args):
        seen.write_text(str(os.nice(0)))  # in the child: its own niceness
        return []

    monkeypatch.setattr(expectations, "_validate", note_niceness)
    pending = expectations.start_canonical(env.config, fixtures.RUN2, canonical_suites())
    assert pending.entries() == []
    assert int(seen.read_text()) == min(19, os.nice(0) + expectations.CANONICAL_NICENESS)
