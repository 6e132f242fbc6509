"""The incremental refresh gives the marts a whole refresh gives, on both backends.

After every step below the incremental result is compared with a whole recomputation over the
same warehouse: every marts table (fct_deflection without its changed_run_id, fct_evaluation,
the aggregates, dim_date) and the W-flag findings. The steps exercise what can tie a row to
records it does not hold: a new version that moves a linked form to another report number, a
case that arrives for it there, a voided version, an as-of date moving past each threshold with
nothing loaded, and a change of the rules' version. A generated drop loaded night by night
through the pipeline, with as-of dates weeks apart and after the last file, checks the same on
realistic data.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest

from deflect import pipeline
from deflect.configuration import load_config
from deflect.pipeline import build_marts
from generator import generate
from tests.deflect.nights import night_config, serve_until
from tests.deflect.test_already_accepted import DROP as ACCEPTED_DROP
from tests.deflect.test_already_accepted import MEG_UNITS
from tests.warehouse.helpers import STAGING, meg_case, merge, tracs_form, write_batch
from transforms import DEPENDENCIES
from transforms.current import RECORDS_WITH_ROWS_IN
from warehouse import connect, load_batch, refresh

KEY = "k" * 64
# compared with every column but fct_deflection's changed_run_id
SNAPSHOT = ("marts.fct_deflection", "marts.fct_evaluation", "marts.deflection_counts",
            "marts.followup_compliance", "marts.dim_date")


def snapshot(wh) -> dict[str, list[tuple]]:
    out = {}
    for table in SNAPSHOT:
        schema, name = table.split(".")
        cols = [c for (c,) in wh.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? ORDER BY column_name", [schema, name]) if c != "changed_run_id"]
        rows = wh.query(f"SELECT {', '.join(cols)} FROM {table}")
        out[table] = sorted((tuple(str(v) for v in r) for r in rows), key=repr)
    out["flags"] = sorted(wh.query("SELECT deflection_id, code FROM meta.finding "
                                   "WHERE level = 'deflection'"))
    return out


def refresh_both(wh, run_id: str, as_of: dt.date, rules_version: str = "r1"):
    """Refresh incrementally, then wholly over the same warehouse: both must agree."""
    args = dict(kinds=STAGING, build=build_marts, records_with_rows_in=RECORDS_WITH_ROWS_IN,
                depends=DEPENDENCIES, rules_version=rules_version, as_of=as_of)
    result = refresh(wh, run_id=run_id, **args)
    incremental = snapshot(wh)
    refresh(wh, run_id=run_id + "-whole", whole=True, **args)
    assert snapshot(wh) == incremental
    return result, incremental


def _meg(record_id, last_modified, report, **kw):
    rows = meg_case(record_id, last_modified, **kw)
    rows["stg_meg__case"][0]["tracs_report_number"] = report
    for row in rows["stg_meg__subject"]:
        row["person_key"] = KEY
    return rows


def _load(wh, tmp_path, batch_id, kind, rows):
    load_batch(wh, STAGING, write_batch(tmp_path, batch_id, kind, rows))


def _deflections(wh):
    return sorted(wh.query("SELECT sources, tracs_record_id, meg_record_id "
                           "FROM marts.fct_deflection"), key=repr)


def test_incremental_follows_links_versions_and_the_as_of_date(wh, tmp_path):
    as_of = dt.date(2026, 10, 26)
    # an old, unrelated deflection: never in scope again
    _load(wh, tmp_path, "b0", "tracs", tracs_form("FR-OLD", 1, report="R-OLD", line=90))
    _load(wh, tmp_path, "b1", "tracs", merge(tracs_form("FR-1", 1, report="R1"),
                                             tracs_form("FR-2", 1, report="R9", line=40)))
    _load(wh, tmp_path, "b2", "meg", _meg("SIEG/C-1", "2026-10-22T10:00:00", "R1"))
    first, _ = refresh_both(wh, "run-1", as_of)
    assert first.records_in_scope is None  # the first refresh is whole
    assert ("TRACS+MEG", "FR-1", "SIEG/C-1") in _deflections(wh)

    # FR-1 moves to report R2: its partner SIEG/C-1 is in scope through R1, unloaded tonight
    _load(wh, tmp_path, "b3", "tracs", tracs_form("FR-1", 2, report="R2"))
    moved, _ = refresh_both(wh, "run-2", as_of)
    assert moved.records_in_scope == 2  # FR-1 and SIEG/C-1, not FR-2 or FR-OLD
    assert ("TRACS", "FR-1", None) in _deflections(wh)
    assert ("MEG", None, "SIEG/C-1") in _deflections(wh)
    changed = wh.query("SELECT count(*) FROM marts.fct_deflection WHERE changed_run_id = "
                       "'run-2'")[0][0]
    assert moved.rows_changed == changed == 2  # FR-2's and FR-OLD's rows were left alone

    # a case arrives under R2: it links with FR-1
    _load(wh, tmp_path, "b4", "meg", _meg("SIEG/C-2", "2026-10-23T10:00:00", "R2"))
    refresh_both(wh, "run-3", as_of)
    assert ("TRACS+MEG", "FR-1", "SIEG/C-2") in _deflections(wh)

    # nothing loaded, the as-of date moves past thresholds (W19 at 8 days, W20 and W16 at 30,
    # due at 90, overdue at 91, W15 at 93) and then far beyond every one of them
    for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 25), dt.date(2027, 1, 22),
                dt.date(2027, 1, 23), dt.date(2027, 1, 26), dt.date(2027, 6, 1)):
        refresh_both(wh, f"run-{day}", day)
    still, _ = refresh_both(wh, "run-still", dt.date(2027, 6, 2))
    assert still.records_in_scope == 0 and still.rows_changed == 0

    # a voided version withdraws FR-1's deflection; SIEG/C-2 stands alone again
    _load(wh, tmp_path, "b5", "tracs", tracs_form("FR-1", 3, report="R2", status="Voided"))
    voided, _ = refresh_both(wh, "run-void", dt.date(2027, 6, 2))
    assert voided.records_in_scope == 3  # FR-1 and the cases of every report it ever had
    assert ("MEG", None, "SIEG/C-2") in _deflections(wh)
    assert not [d for d in _deflections(wh) if d[1] == "FR-1"]

    # new rules: whole
    rules, _ = refresh_both(wh, "run-rules", dt.date(2027, 6, 2), rules_version="r2")
    assert rules.records_in_scope is None


def test_a_withdrawn_deflection_alone_updates_the_aggregates(wh, tmp_path):
    # nothing new or changed tonight, only a deflection gone: its unit's counts must go too
    as_of = dt.date(2026, 11, 1)
    _load(wh, tmp_path, "b1", "tracs", merge(tracs_form("FR-1", 1, report="R1"),
                                             tracs_form("FR-2", 1, report="R2", line=40,
                                                        deflections=(("1", "SELF_REFERRAL",
                                                                      "DMEG"),))))
    refresh_both(wh, "run-1", as_of)
    _load(wh, tmp_path, "b2", "tracs", tracs_form("FR-1", 2, report="R1", status="Voided"))
    gone, marts = refresh_both(wh, "run-2", as_of)
    assert (gone.rows_changed, gone.rows_removed) == (0, 1)
    assert [row[0] for row in marts["marts.deflection_counts"]] == ["DMEG"]


def test_an_earlier_as_of_date_refreshes_whole(wh, tmp_path):
    _load(wh, tmp_path, "b1", "tracs", tracs_form("FR-1", 1))
    refresh_both(wh, "run-1", dt.date(2026, 12, 1))
    back, _ = refresh_both(wh, "run-2", dt.date(2026, 11, 1))
    assert back.records_in_scope is None


DROP = dataclasses.replace(
    ACCEPTED_DROP, start=dt.date(2026, 5, 1), end=dt.date(2026, 7, 31), seed=23, forms_per_day=5,
    deflection_share=0.3, defect_rate=0.03)
# (last day served, as-of date): nights weeks apart, then time passing with nothing new
NIGHTS = (("20260520", dt.date(2026, 5, 21)), ("20260602", dt.date(2026, 6, 3)),
          ("20260603", dt.date(2026, 6, 4)), ("20260701", dt.date(2026, 7, 2)),
          (None, dt.date(2026, 8, 1)), (None, dt.date(2026, 8, 20)),
          (None, dt.date(2026, 10, 3)), (None, dt.date(2026, 12, 1)))


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    out = tmp_path_factory.mktemp("drop")
    generate(DROP, out)
    return out


@pytest.mark.slow
def test_nightly_runs_refresh_incrementally_to_the_whole_result(drop, tmp_path, warehouse_url,
                                                                monkeypatch):
    work = tmp_path / "run"
    work.mkdir()
    given = "duckdb:///warehouse.duckdb" if warehouse_url.startswith("duckdb:") else warehouse_url
    config = load_config(night_config(drop, work, given, MEG_UNITS))
    results = []
    real = pipeline.refresh
    monkeypatch.setattr(pipeline, "refresh",
                        lambda config, run_id, whole=False: results.append(
                            real(config, run_id, whole)) or results[-1])
    for last_day, as_of in NIGHTS:
        serve_until(drop, work / "served", last_day)
        pipeline.run(config, as_of=as_of, publish=False, workers=1)
        with connect(config.warehouse) as wh:
            incremental = snapshot(wh)
        whole = real(config, results[-1].run_id, whole=True)
        with connect(config.warehouse) as wh:
            assert snapshot(wh) == incremental, (last_day, as_of)
        assert whole.records_in_scope is None
    kinds = [r.records_in_scope for r in results]
    assert kinds[0] is None and all(k is not None for k in kinds[1:])
    total = whole.deflections
    assert total > 30
    # once the as-of date is months past most referrals, a night rebuilds only the rest (with
    # a 94-day horizon and three months of data, the earlier nights rebuild nearly everything)
    assert results[-2].deflections < total and results[-1].deflections < total / 2


def test_the_rules_fingerprint_covers_the_core_modules_the_rules_import(tmp_path, monkeypatch):
    import deflect.core
    from transforms import dependencies

    before = dependencies.rules_fingerprint()
    core = Path(deflect.core.__file__).parent
    copy = tmp_path / "core"
    shutil.copytree(core, copy)
    monkeypatch.setattr(deflect.core, "__file__", str(copy / "__init__.py"))
    assert dependencies.rules_fingerprint() == before
    (copy / "expectations.py").write_text("# not read by the rules\n", encoding="utf-8")
    assert dependencies.rules_fingerprint() == before
    (copy / "vocab.py").write_text((core / "vocab.py").read_text() + "\n# edited\n")
    assert dependencies.rules_fingerprint() != before
