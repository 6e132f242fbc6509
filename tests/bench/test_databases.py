"""The bench's databases (bench/runner.py): a copy kept for later is not dropped with the rest."""
from __future__ import annotations

import uuid

import pytest

from bench.runner import Databases


@pytest.mark.postgres
def test_a_kept_copy_holds_the_rows_and_outlives_drop_all(pg_server_url):
    import psycopg

    dbs = Databases(pg_server_url)
    source = dbs.create()
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
    name = f"bench_kept_{uuid.uuid4().hex[:10]}"
    kept = dbs.copy(source, name)
    try:
        dbs.drop_all()
        with psycopg.connect(kept) as conn:
            assert conn.execute("SELECT sum(x) FROM t").fetchone()[0] == 3
        with psycopg.connect(pg_server_url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                                [source.rsplit("/", 1)[1]]).fetchone()[0] == 0
    finally:
        dbs.drop(kept)


@pytest.mark.postgres
def test_a_fresh_copy_of_a_kept_database_is_dropped_with_the_others(pg_server_url):
    import psycopg

    dbs = Databases(pg_server_url)
    kept = dbs.copy(dbs.create(), f"bench_kept_{uuid.uuid4().hex[:10]}")
    try:
        with psycopg.connect(kept, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (5)")
        fresh = dbs.copy_new(kept.rsplit("/", 1)[1])
        with psycopg.connect(fresh) as conn:
            assert conn.execute("SELECT x FROM t").fetchone()[0] == 5
        dbs.drop_all()
        with psycopg.connect(pg_server_url) as conn:
            names = {n for (n,) in conn.execute("SELECT datname FROM pg_database")}
        assert fresh.rsplit("/", 1)[1] not in names and kept.rsplit("/", 1)[1] in names
    finally:
        dbs.drop(kept)
