import uuid

import pytest

from tests.fixtures.postgres import with_database
from warehouse import connect, migrate


@pytest.fixture(scope="session", params=["duckdb",
                                         pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_url(request, tmp_path_factory):
    """One migrated warehouse per backend for the whole session (tests reset its rows).

    Tests of the migrations themselves take `warehouse_url` (a fresh empty database) instead."""
    if request.param == "duckdb":
        url = f"duckdb://{tmp_path_factory.mktemp('wh') / 'warehouse.duckdb'}"
        with connect(url) as wh:
            migrate(wh)
        yield url
        return
    import psycopg
    from psycopg import sql

    server = request.getfixturevalue("pg_server_url")
    name = f"deflect_test_wh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    try:
        with connect(url) as wh:
            migrate(wh)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def reset(wh) -> None:
    """Delete every row a test may have written (the schema stays)."""
    tables = wh.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('staging', 'marts', 'meta', 'quality') "
        "AND table_type = 'BASE TABLE'"
    )
    with wh.transaction():
        for schema, table in tables:
            if (schema, table) != ("meta", "schema_migrations"):
                wh.execute(f"DELETE FROM {schema}.{table}")


@pytest.fixture
def wh(migrated_url):
    """A migrated warehouse with no rows, on each backend."""
    with connect(migrated_url) as w:
        reset(w)
        yield w
