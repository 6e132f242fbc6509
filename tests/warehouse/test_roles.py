"""PostgreSQL roles created by the migrations: connect as each and check what is refused."""
import datetime as dt

import psycopg
import pytest

from tests.fixtures.postgres import with_user
from tests.warehouse.helpers import STAGING, tracs_form, write_batch
from tests.warehouse.test_refresh import fake_build
from warehouse import connect, load_batch, migrate, refresh

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_wh(pg_url, tmp_path):
    with connect(pg_url) as wh:
        migrate(wh)
        load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1)))
        refresh(wh, kinds=STAGING, run_id="run-1", as_of=dt.date(2026, 11, 1), build=fake_build)
    return pg_url


def can_select(url, relation) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(f"SELECT count(*) FROM {relation}").fetchone()
            return True
        except psycopg.errors.InsufficientPrivilege:
            return False


def test_analyst_reads_only_reporting(pg_wh):
    url = with_user(pg_wh, "deflect_analyst")
    for view in ("reporting.deflection", "reporting.deflection_counts",
                 "reporting.followup_compliance", "reporting.published_deflection_counts",
                 "reporting.load_run"):
        assert can_select(url, view), view
    for relation in ("staging.stg_tracs__individual", "marts.fct_deflection", "quality.finding",
                     "quality.quarantine", "meta.file_ledger", "quality.followup_worklist"):
        assert not can_select(url, relation), relation


def test_steward_reads_quality_and_bookkeeping_not_staging(pg_wh):
    url = with_user(pg_wh, "deflect_steward")
    for relation in ("quality.finding", "quality.quarantine", "quality.file_ledger",
                     "quality.followup_worklist", "meta.file_ledger", "meta.quarantine",
                     "meta.load_audit", "reporting.deflection"):
        assert can_select(url, relation), relation
    for relation in ("staging.stg_tracs__field_report", "marts.fct_deflection"):
        assert not can_select(url, relation), relation
    with psycopg.connect(url, autocommit=True) as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM meta.quarantine")


def test_analyst_cannot_write(pg_wh):
    with psycopg.connect(with_user(pg_wh, "deflect_analyst"), autocommit=True) as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("CREATE TABLE reporting.mine (a integer)")


def test_loader_loads_and_refreshes(pg_wh, tmp_path):
    with connect(with_user(pg_wh, "deflect_loader")) as wh:
        assert migrate(wh) == []
        result = load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs",
                                            tracs_form("FR-26-0000001", 2)))
        assert result.records_loaded == 1
        refresh(wh, kinds=STAGING, run_id="run-2", as_of=dt.date(2026, 11, 1), build=fake_build)
        assert wh.scalar("SELECT count(*) FROM reporting.deflection") == 1


def test_roles_survive_a_second_database(pg_wh, pg_server_url):
    # roles are cluster-wide: migrating another database reuses them and grants there too
    import uuid

    from psycopg import sql

    from tests.fixtures.postgres import with_database

    name = f"deflect_test_roles_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = with_database(pg_server_url, name)
        with connect(url) as wh:
            assert migrate(wh)
        assert can_select(with_user(url, "deflect_analyst"), "reporting.deflection")
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_followup_worklist_for_stewards_and_the_loader_only(pg_wh):
    # explicit grants (migration 0013), not only the default privileges of whoever migrated
    with psycopg.connect(pg_wh, autocommit=True) as conn:
        granted = {r for (r,) in conn.execute(
            "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = "
            "'quality' AND table_name = 'followup_worklist' AND privilege_type = 'SELECT'")}
    assert {"deflect_steward", "deflect_loader"} <= granted
    assert not granted & {"deflect_analyst", "PUBLIC"}
    assert can_select(with_user(pg_wh, "deflect_loader"), "quality.followup_worklist")
    with psycopg.connect(with_user(pg_wh, "deflect_steward"), autocommit=True) as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM marts.fct_deflection")


def test_steward_records_reviews_but_cannot_rewrite_them(pg_wh):
    with psycopg.connect(with_user(pg_wh, "deflect_steward"), autocommit=True) as conn:
        conn.execute("INSERT INTO quality.quarantine_review VALUES "
                     "('q1', 'reviewed', NULL, 'steward', now())")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM quality.quarantine_review")
