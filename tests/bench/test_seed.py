"""The full-warehouse seeding (bench/seed.py): a year copied in SQL k years back holds the rows
the pipeline loads from the same files rewritten with the same shift."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench import seed

PERSON_KEY = "bench-person-key"


def test_shifts_number_as_the_generator_would():
    pre = {"DMEG": 3}
    # a case of the loaded year comes after the cases opened before it (DMEG-2024-0001..0003)
    assert seed.case_number("DMEG-2025-0001", 1, 2025, pre) == "DMEG-2024-0004"
    assert seed.case_number("DMEG-2024-0002", 1, 2025, pre) == "DMEG-2023-0002"
    assert seed.meg_record_id("DMEG/KAMEG-2025-0007", 2, 2025, pre) == "DMEG/KAMEG-2023-0007"
    assert seed.tracs_id("FR-25-0000042", 4) == "FR-21-0000042"
    assert seed.report_number("ISP25-000001", 3) == "ISP22-000001"
    assert seed.file_name("TRACS_IL0849800_20260101T013020_0001.xml.gz", 1) == \
        "TRACS_IL0849800_20250101T013020_0001.xml.gz"
    assert seed.shift_prefix("2025-03-09T08:00:00-05:00", 4) == "2021-03-09T08:00:00-05:00"
    assert seed.shift_date(dt.date(2024, 2, 29), 1) == dt.date(2023, 2, 28)
    assert seed.tracs_id("odd", 1) == "odd~1"  # never a collision with another copy


def _database(server_url: str) -> str:
    import psycopg
    from psycopg import sql

    name = f"deflect_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + "/" + name


def _drop(url: str, server_url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _deflect(*args: str) -> None:
    exe = Path(sys.executable).parent / "deflect"
    env = dict(os.environ, DEFLECT_PERSON_KEY=PERSON_KEY)
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: some records quarantined


@pytest.mark.postgres
def test_a_copied_year_equals_the_pipelines_load_of_the_rewritten_files(tmp_path, pg_url,
                                                                        pg_server_url):
    import psycopg

    drop = tmp_path / "drop"
    # a calendar year's first nights: MEG files carry cases opened the year before
    _deflect("generate", "--out", str(drop), "--start", "2025-01-01", "--end", "2025-01-03",
             "--forms-per-day", "60", "--attachment-kb", "1", "--no-pending", "--no-progress")
    _deflect("run", "--config", str(seed.local_config(drop, pg_url, tmp_path / "orig")),
             "--as-of", "2025-01-04")
    with psycopg.connect(pg_url) as conn:
        loaded = {t: conn.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0]
                  for t in seed.STAGING}
    result = seed.seed(pg_url, 4, 2025, log=lambda _: None)
    assert result.prehistory, "the drop should carry MEG cases numbered in 2024"
    with psycopg.connect(pg_url) as conn:
        for t, n in loaded.items():
            assert conn.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0] == 5 * n, t
        # every copy's ids and report numbers are its own
        assert conn.execute("SELECT count(DISTINCT record_id) FROM staging.stg_meg__case"
                            ).fetchone()[0] == 5 * conn.execute(
            "SELECT count(DISTINCT record_id) FROM staging.stg_meg__case "
            "WHERE batch_id IN (SELECT batch_id FROM meta.load_audit "
            "WHERE run_id = (SELECT max(run_id) FROM meta.load_audit))").fetchone()[0]
        years = conn.execute("SELECT DISTINCT extract(year from date_occurred)::int "
                             "FROM staging.stg_tracs__field_report ORDER BY 1").fetchall()
        assert [y for (y,) in years] == [2021, 2022, 2023, 2024, 2025]
        assert conn.execute("SELECT load_seq FROM meta.refresh_state").fetchone()[0] is None

    for k in (1, 4):
        shifted = tmp_path / f"shifted-{k}"
        info = seed.rewrite_drop(drop, shifted, k, 2025, result.prehistory)
        assert info["written"]
        other = _database(pg_server_url)
        try:
            _deflect("run", "--config", str(seed.local_config(shifted, other, tmp_path / f"k{k}")),
                     "--as-of", f"{2025 - k}-01-04")
            out = seed.compare_sample(pg_url, other, k, tuple(info["skipped"]))
        finally:
            _drop(other, pg_server_url)
        assert out["differences"] == {}, out["differences"]
        assert out["rows"]["staging.stg_tracs__field_report"] == loaded["stg_tracs__field_report"]
        assert out["rows"]["staging.stg_meg__deflection"] > 0
