"""`deflect run` loads its first sources while later sources' batches still run (EarlyLoads).

The order rule on its own (which sources load when), then two nights of a generated drop run
into fresh PostgreSQL warehouses with the early loads and without them: every staging and meta
table, the load audit's numbering included, and every source's load counts must be the same."""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from deflect import pipeline
from deflect.configuration import load_config
from generator import GeneratorConfig, generate
from tests.deflect.nights import night_config, serve_until, table_rows
from warehouse import connect

# -- which sources load when -------------------------------------------------------------------

BATCHES = [("tracs", "t0"), ("tracs", "t1"), ("meg-a", "a0"), ("meg-b", "b0"), ("meg-b", "b1"),
           ("meg-c", "c0")]


def _early(url: str, monkeypatch, fail: bool = False):
    names = ("tracs", "meg-a", "meg-b", "meg-c", "meg-quiet")  # meg-quiet: planned no batches
    config = SimpleNamespace(warehouse=url, sources=[SimpleNamespace(name=n) for n in names])
    loads = []

    def fake_load(self, ready):
        if fail:
            self.enabled = False
        loads.append(list(ready))

    monkeypatch.setattr(pipeline.EarlyLoads, "_load", fake_load)
    return pipeline.EarlyLoads(config, "r", BATCHES), loads


PG = "postgresql://u@h/db"


def test_sources_load_once_all_theirs_and_all_before_them_are_done(monkeypatch):
    early, loads = _early(PG, monkeypatch)
    for source, batch in [("meg-b", "b0"), ("meg-a", "a0"), ("tracs", "t1")]:
        early.batch_done(source, batch, running=3)
    assert loads == []  # tracs, first in the configuration, still has a batch running
    early.batch_done("tracs", "t0", running=2)
    assert loads == [["tracs", "meg-a"]]  # meg-b has a batch left
    early.batch_done("meg-b", "b1", running=1)
    assert loads == [["tracs", "meg-a"], ["meg-b"]]
    early.batch_done("meg-c", "c0", running=0)  # the last: load_run loads it
    assert loads == [["tracs", "meg-a"], ["meg-b"]]


def test_nothing_loads_early_once_no_batch_is_running(monkeypatch):
    """Batches that finished while the run's process was busy (loading) are reported late: when
    none is running any more, the sources they complete are left to load_run, in one load."""
    early, loads = _early(PG, monkeypatch)
    for source, batch in BATCHES[1:]:
        early.batch_done(source, batch, running=1)
    early.batch_done("tracs", "t0", running=0)
    assert loads == []
    assert early.next == len(early.order)


def test_nothing_loads_early_when_the_last_batch_completes_the_first_source(monkeypatch):
    early, loads = _early(PG, monkeypatch)
    for n, (source, batch) in enumerate(reversed(BATCHES)):
        early.batch_done(source, batch, running=len(BATCHES) - n - 1)
    assert loads == []


def test_duckdb_loads_nothing_early_and_a_failure_ends_early_loading(monkeypatch):
    early, loads = _early("duckdb:///warehouse.duckdb", monkeypatch)
    for n, (source, batch) in enumerate(BATCHES):
        early.batch_done(source, batch, running=len(BATCHES) - n - 1)
    assert loads == []
    early, loads = _early(PG, monkeypatch, fail=True)
    for n, (source, batch) in enumerate(BATCHES):
        early.batch_done(source, batch, running=len(BATCHES) - n - 1)
    assert loads == [["tracs"]]  # and no other after it failed


# -- the same warehouse ----------------------------------------------------------------------

DROP = GeneratorConfig(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 12), seed=23,
                       forms_per_day=8, attachment_kb=1, large_attachments=0, defect_rate=0.05,
                       deflection_share=0.25, pending_at_end=False)
FIRST_NIGHT_LAST_DAY = "20260806"
MEG_UNITS = 3
# what names a run, a batch or a moment, not what was loaded in which order
_SKIP = {"batch_id", "run_id", "resolved_run_id", "superseded_run_id", "state_run_id",
         "raw_path", "landing_path", "handled_at", "started_at", "finished_at", "loaded_at",
         "set_at"}


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("drop")
    generate(DROP, out)
    return out


def _two_nights(drop_dir: Path, work: Path, url: str) -> tuple[list[dict], list[str]]:
    """Two nights into the warehouse at `url`: each night's load totals, and the sources."""
    work.mkdir(parents=True)
    config = load_config(night_config(drop_dir, work, url, MEG_UNITS))
    totals = []
    for last_day, as_of in ((FIRST_NIGHT_LAST_DAY, dt.date(2026, 8, 7)),
                            (None, DROP.effective_as_of)):
        serve_until(drop_dir, work / "served", last_day)
        result = pipeline.run(config, as_of=as_of, publish=False, workers=2)
        assert not result["failed_sources"]
        run_id = pipeline.latest_run_id(config)
        totals.append(json.loads(
            (pipeline.run_dir(config, run_id) / "load.json").read_text(encoding="utf-8")))
    return totals, [s.name for s in config.sources]


def _tables(url: str) -> dict[str, list[tuple]]:
    with connect(url, read_only=True) as wh:
        names = [f"{schema}.{table}" for schema, table in wh.query(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'meta') AND table_type = 'BASE TABLE' "
            "AND table_name NOT IN ('schema_migrations', 'load_run_history') "
            "ORDER BY 1, 2")]
        return table_rows(wh, [*names, "reporting.load_run"], _SKIP)


@pytest.mark.slow
@pytest.mark.postgres
def test_loading_early_leaves_the_warehouse_a_single_load_would(drop, tmp_path, pg_url,
                                                                 monkeypatch, caplog):
    import psycopg
    from psycopg import sql

    base = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(f"{base}_single")))
    single_url = pg_url.rsplit("/", 1)[0] + f"/{base}_single"
    real = pipeline.process_batch

    def meg_takes_longer(config, run_id, batch_id):
        if "-meg-" in batch_id:  # so the TraCS source is done while MEG batches still run
            time.sleep(0.4)
        return real(config, run_id, batch_id)

    # fork: the workers see this patch as the parent does
    monkeypatch.setattr(pipeline, "process_batch", meg_takes_longer)
    # the batches in configuration order, not largest first (MEG's cumulative files are the
    # larger here): the TraCS source, first, is done while MEG batches still run
    monkeypatch.setattr(pipeline, "largest_first", lambda config, run_id, batches: batches)
    # every file a batch of its own: the TraCS source has several to finish
    monkeypatch.setattr(pipeline, "plan_source", functools.partial(pipeline.plan_source,
                                                                   batch_bytes=1))
    monkeypatch.setattr(pipeline, "SPREAD_BATCHES", 10**9)
    try:
        with caplog.at_level(logging.INFO, logger="deflect.pipeline"):
            early_totals, names = _two_nights(drop, tmp_path / "early", pg_url)
        # "loaded N batches of <source>, <source> while other batches ran"
        early_loads = [r.getMessage().split(" of ", 1)[1].split(" while ")[0].split(", ")
                       for r in caplog.records if "while other batches ran" in r.getMessage()]
        with monkeypatch.context() as m:
            m.setattr(pipeline, "EarlyLoads", lambda *args: None)
            single_totals, _ = _two_nights(drop, tmp_path / "single", single_url)
        # the TraCS source (first) was loaded early on both nights, the last source never
        assert [load for load in early_loads if names[0] in load] == [
            names[:len(load)] for load in early_loads if names[0] in load], early_loads
        assert sum(names[0] in load for load in early_loads) == 2, early_loads
        assert not any(names[-1] in load for load in early_loads)
        assert early_totals == single_totals
        early, single = _tables(pg_url), _tables(single_url)
        assert early.keys() == single.keys()
        assert [n for n in single if early[n] != single[n]] == []
        assert early["meta.load_audit"] and early["staging.stg_tracs__field_report"]
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(f"{base}_single")))
