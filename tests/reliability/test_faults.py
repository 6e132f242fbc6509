"""Faults at each stage of a real `deflect run` process (tests/reliability/faults.py): killed
with SIGKILL while downloading, validating, loading, refreshing and publishing, then run again,
the warehouse equals that of a clean run, table by table; a full disk ends in one line and exit
status 3, and leaves the reporting views as they were; a second run at the same time is refused.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reliability.faults import KILL_POINTS
from tests.reliability.helpers import config_for, deflect, snapshot, warehouse_of
from warehouse import connect

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("stage", sorted(KILL_POINTS))
def test_killed_at_a_stage_then_run_again_equals_a_clean_run(stage, drop, clean, tmp_path):
    config = config_for(drop, tmp_path / "w")
    killed = deflect(config, fault=stage)
    assert killed.returncode == -9, killed.stderr[-2000:]
    deflect(config, check_rc=0)
    again = snapshot(warehouse_of(config))
    assert again.keys() == clean.keys()
    differ = [t for t in clean if again[t] != clean[t]]
    assert differ == []
    # nothing half-written is left behind by the run after
    assert not list((config.parent / "landing").rglob(".part-*"))
    assert not list((config.parent / "work").glob("runs/*/batches/.*.tmp-*"))


@pytest.mark.parametrize("fault", ["disk-full", "work-full"])  # landing area, work area
def test_a_full_disk_ends_in_one_line_and_leaves_the_views_as_they_were(drop, tmp_path, fault):
    config = config_for(drop, tmp_path / "w")
    deflect(config, check_rc=0)
    before = snapshot(warehouse_of(config))
    for d in (config.parent / "landing").glob("*"):  # a new landing area: everything again
        if d.is_dir():
            shutil.rmtree(d)
    with connect(warehouse_of(config)) as wh:
        wh.execute("DELETE FROM meta.file_ledger")
    full = deflect(config, fault=fault)
    assert "Traceback" not in full.stderr
    assert full.returncode in (1, 3), full.stderr[-2000:]
    after = snapshot(warehouse_of(config))
    for table in ("marts.fct_deflection", "marts.deflection_counts"):
        assert after[table] == before[table]


def test_a_second_run_at_the_same_time_is_refused(drop, tmp_path):
    from warehouse.locks import run_lock

    config = config_for(drop, tmp_path / "w")
    with run_lock(warehouse_of(config)):
        second = deflect(config)
    assert second.returncode == 3
    assert "another run holds the warehouse" in second.stderr
    assert "Traceback" not in second.stderr


@pytest.mark.postgres
def test_a_connection_lost_mid_load_then_run_again_equals_a_clean_run(drop, tmp_path,
                                                                       pg_server_url):
    import uuid

    import psycopg
    from psycopg import sql

    from tests.fixtures.postgres import with_database

    names = [f"deflect_test_fault_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        urls = [with_database(pg_server_url, n) for n in names]
        clean_config, faulty_config = (
            config_for(drop, tmp_path / label, replace=(
                ("warehouse: duckdb:///warehouse.duckdb", f"warehouse: {url}"),))
            for label, url in zip(("clean", "faulty"), urls))
        deflect(clean_config, check_rc=0)
        lost = deflect(faulty_config, fault="connection-lost")
        assert lost.returncode == 3 and "the warehouse failed" in lost.stderr, lost.stderr[-2000:]
        assert "Traceback" not in lost.stderr
        deflect(faulty_config, check_rc=0)
        clean, again = snapshot(urls[0]), snapshot(urls[1])
        assert [t for t in clean if again.get(t) != clean[t]] == []
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))


def test_workers_die_with_a_killed_run(drop, tmp_path):
    """kill -9 of `deflect run` while its two workers download: no worker is left behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.reliability.helpers import AS_OF, ROOT

    config = config_for(drop, tmp_path / "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.faults", "slow-download", "run", "--config",
         str(config), "--as-of", AS_OF, "--workers", "2"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list((config.parent / "landing").rglob(".part-*")):
            assert time.monotonic() < deadline and proc.poll() is None, "no download started"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(2)

        def ours():
            found = []
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        if str(config).encode() in fh.read():
                            found.append(int(pid))
                except OSError:
                    continue
            return found

        assert ours() == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_file_that_changed_while_fetching_counts_as_pending(drop, tmp_path):
    drop = Path(shutil.copytree(drop, tmp_path / "drop"))  # the fault appends to its files
    config = config_for(drop, tmp_path / "w")
    deflect(config, fault="grows", check_rc=0)
    with connect(warehouse_of(config), read_only=True) as wh:
        pending = wh.scalar("SELECT files_pending FROM reporting.load_run "
                            "WHERE source = 'tracs-isp'")
        ledger = wh.query("SELECT DISTINCT status FROM meta.file_ledger "
                          "WHERE source = 'tracs-isp'")
    assert pending >= 1 and ledger == [("pending",)]
