"""quality.lineage (migration 0018): for each counted deflection, the record versions behind its
current row, with file, line, run and load time; on both backends, with the real rules."""
import datetime as dt

import pandas as pd
import psycopg
import pytest

from deflect.pipeline import build_marts
from tests.fixtures.postgres import with_user
from tests.warehouse.helpers import (
    STAGING,
    assert_columns_documented,
    assert_view_written_once_with_grants,
    meg_case,
    merge,
    tracs_form,
    write_batch,
)
from tests.warehouse.test_migrate import columns_of
from tests.warehouse.test_roles import can_select
from warehouse import connect, load_batch, migrate, refresh

AS_OF = dt.date(2026, 12, 1)
COLUMNS = [
    ("deflection_id", "text"), ("source", "text"), ("record_id", "text"), ("version", "text"),
    ("file_name", "text"), ("line", "integer"), ("run_id", "text"),
    ("loaded_at", "timestamp with time zone"),
]
LINKED_REPORT = "ISP26-000777"


def _load(wh, tmp_path):
    """run-1: a TraCS form (version 1) reported by MEG too, a TraCS-only form, a MEG-only case
    and a form that is voided. run-2: version 2 of the linked form, and the void."""
    linked = meg_case("SIEG/SIEG-2026-0007", "2026-10-26T09:15:00", line=41,
                      file_name="CaseActivity_SIEG_20261026.xml")
    linked["stg_meg__case"][0]["tracs_report_number"] = LINKED_REPORT
    meg_only = meg_case("SIEG/SIEG-2026-0009", "2026-10-27T08:00:00", line=80,
                        file_name="CaseActivity_SIEG_20261027.xml")
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", merge(
        tracs_form("FR-26-0000001", 1, report=LINKED_REPORT, line=10),
        tracs_form("FR-26-0000002", 1, report="ISP26-000002", line=60),
        tracs_form("FR-26-0000003", 1, report="ISP26-000003", line=90)), run_id="run-1"))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "meg", merge(linked, meg_only),
                                        run_id="run-1",
                                        finished_at="2026-11-01T03:02:00+00:00"))
    load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs", merge(
        tracs_form("FR-26-0000001", 2, report=LINKED_REPORT, line=12,
                   file_name="TRACS_IL0849800_20261102T013000_1.xml"),
        tracs_form("FR-26-0000003", 2, report="ISP26-000003", status="Voided", line=30,
                   file_name="TRACS_IL0849800_20261102T013000_1.xml")),
        run_id="run-2", started_at="2026-11-02T03:00:00+00:00",
        finished_at="2026-11-02T03:05:00+00:00"))
    refresh(wh, kinds=STAGING, run_id="run-2", as_of=AS_OF, build=build_marts)


def _lineage(wh) -> pd.DataFrame:
    return wh.read_frame("SELECT * FROM quality.lineage ORDER BY deflection_id, source")


def test_columns_and_types(wh):
    assert columns_of(wh, "quality.lineage") == COLUMNS


def test_each_counted_deflection_has_the_current_version_of_each_member(wh, tmp_path):
    _load(wh, tmp_path)
    deflections = dict(wh.query("SELECT deflection_id, sources FROM reporting.deflection"))
    assert sorted(deflections.values()) == ["MEG", "TRACS", "TRACS+MEG"]  # the void counts not
    lineage = _lineage(wh)
    assert set(lineage["deflection_id"]) == set(deflections)
    rows = {(r["deflection_id"], r["record_id"]): r for r in lineage.to_dict(orient="records")}
    assert len(rows) == len(lineage) == 4
    by_sources = {v: k for k, v in deflections.items()}
    linked = by_sources["TRACS+MEG"]
    form = rows[(linked, "FR-26-0000001")]
    # version 2 made the current row: its file, line, run and load time
    assert (form["source"], form["version"], form["file_name"], form["line"], form["run_id"]) \
        == ("tracs-isp", "2", "TRACS_IL0849800_20261102T013000_1.xml", 12, "run-2")
    assert pd.Timestamp(form["loaded_at"]) == pd.Timestamp("2026-11-02T03:05:00+00:00")
    case = rows[(linked, "SIEG/SIEG-2026-0007")]
    assert (case["source"], case["version"], case["file_name"], case["line"], case["run_id"]) \
        == ("meg-sieg", "2026-10-26 09:15:00", "CaseActivity_SIEG_20261026.xml", 41, "run-1")
    assert pd.Timestamp(case["loaded_at"]) == pd.Timestamp("2026-11-01T03:02:00+00:00")
    tracs_only = rows[(by_sources["TRACS"], "FR-26-0000002")]
    assert (tracs_only["version"], tracs_only["line"], tracs_only["run_id"]) == ("1", 60, "run-1")
    meg_only = rows[(by_sources["MEG"], "SIEG/SIEG-2026-0009")]
    assert (meg_only["version"], meg_only["line"]) == ("2026-10-27 08:00:00", 80)
    assert not any(r == "FR-26-0000003" for _, r in rows)


def test_a_member_no_longer_reporting_leaves_the_lineage(wh, tmp_path):
    """The TraCS form of a linked deflection is voided: the MEG case alone reports it now."""
    _load(wh, tmp_path)
    load_batch(wh, STAGING, write_batch(tmp_path, "b4", "tracs", tracs_form(
        "FR-26-0000001", 3, report=LINKED_REPORT, status="Voided"), run_id="run-3"))
    refresh(wh, kinds=STAGING, run_id="run-3", as_of=AS_OF, build=build_marts)
    lineage = _lineage(wh)
    assert "FR-26-0000001" not in set(lineage["record_id"])
    assert "SIEG/SIEG-2026-0007" in set(lineage["record_id"])
    assert set(lineage["deflection_id"]) == {
        d for (d,) in wh.query("SELECT deflection_id FROM reporting.deflection")}


@pytest.mark.postgres
def test_stewards_read_the_lineage_analysts_do_not(pg_url, tmp_path):
    with connect(pg_url) as wh:
        migrate(wh)
        _load(wh, tmp_path)
    assert can_select(with_user(pg_url, "deflect_steward"), "quality.lineage")
    assert can_select(with_user(pg_url, "deflect_loader"), "quality.lineage")
    assert not can_select(with_user(pg_url, "deflect_analyst"), "quality.lineage")
    with psycopg.connect(with_user(pg_url, "deflect_steward"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM quality.lineage").fetchone()[0] == 4


def test_the_view_is_written_once_and_postgresql_adds_only_grants():
    assert_view_written_once_with_grants(18, "quality.lineage")


def test_every_column_is_documented():
    assert_columns_documented("quality.lineage", COLUMNS)
