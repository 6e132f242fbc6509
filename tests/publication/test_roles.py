"""PostgreSQL roles and the vintage views: the analyst reads every `reporting` view (vintages,
history, revisions included) and nothing row level of a vintage; the steward reads the members
behind each published cell; the pipeline's account cannot change a vintage."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from deflect.pipeline import build_marts
from publication.vintage import publish
from tests.fixtures.postgres import with_user
from tests.publication.test_revision import AS_OF, tracs
from tests.warehouse.helpers import STAGING, merge, write_batch
from warehouse import connect, load_batch, migrate, refresh

pytestmark = pytest.mark.postgres

ROW_LEVEL = ("quality.published_cell_member", "quality.revision_member",
             "meta.published_cell_member", "meta.published_deflection", "meta.revision_member",
             "meta.published_cell", "marts.fct_deflection")


@pytest.fixture
def published(pg_url, tmp_path):
    with connect(pg_url) as wh:
        migrate(wh)
        load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs",
                                            merge(*(tracs(n) for n in range(1, 14)))))
        refresh(wh, kinds=STAGING, run_id="run-1", as_of=dt.date(2026, 11, 14), build=build_marts)
        publish(wh, period="2026-Q3", as_of=AS_OF, run_id="run-1", protection_width=5)
        load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", tracs(14)))
        refresh(wh, kinds=STAGING, run_id="run-2", as_of=dt.date(2026, 11, 14), build=build_marts)
        publish(wh, period="2026-Q3", as_of=AS_OF, run_id="run-2", protection_width=5)
        views = [f"reporting.{v}" for (v,) in wh.query(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting' "
            "ORDER BY table_name")]
    return pg_url, views


def rows(url, relation) -> int | None:
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            return conn.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
        except psycopg.errors.InsufficientPrivilege:
            return None


def test_the_analyst_reads_every_reporting_view_and_no_row_level_vintage(published):
    url, views = published
    new = {"reporting.publication", "reporting.published_history", "reporting.published_table",
           "reporting.published_deflection_counts", "reporting.published_deflections_by_category",
           "reporting.published_statutory_measures", "reporting.revision"}
    assert new <= set(views)
    analyst = with_user(url, "deflect_analyst")
    for view in views:
        assert rows(analyst, view) is not None, view
    for view in new - {"reporting.revision"}:
        assert rows(analyst, view) > 0, view
    for relation in ROW_LEVEL:
        assert rows(analyst, relation) is None, relation


def test_the_steward_reads_the_members_of_each_cell(published):
    url, _ = published
    steward = with_user(url, "deflect_steward")
    assert rows(steward, "quality.published_cell_member") > 0
    assert rows(steward, "quality.revision_member") is not None


def test_the_loader_cannot_change_a_vintage(published):
    url, _ = published
    with psycopg.connect(with_user(url, "deflect_loader"), autocommit=True) as conn:
        for sql in ("DELETE FROM meta.published_cell", "UPDATE meta.publication SET as_of = NULL",
                    "DELETE FROM meta.publication"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
