"""Nothing lost when a cause goes away, and every wrong start refused with its status, through
the real `deflect` command over a small generated drop (DuckDB; the run lock on PostgreSQL too).
"""
from __future__ import annotations

import os
import shutil

import pytest

from tests.reliability.helpers import (
    config_for,
    deflect,
    snapshot,
    warehouse_of,
)
from warehouse import connect

pytestmark = pytest.mark.slow


def _deflections(config) -> int:
    with connect(warehouse_of(config), read_only=True) as wh:
        return wh.scalar("SELECT count(*) FROM reporting.deflection")


def _statuses(config) -> dict:
    with connect(warehouse_of(config), read_only=True) as wh:
        return dict(wh.query("SELECT status, count(*) FROM meta.file_ledger GROUP BY 1"))


def test_a_size_limit_fixed_lets_the_files_load(drop, clean, tmp_path):
    """max_file_bytes: 1 quarantines every file F07 from its listing; fixed, the next run
    judges them again and the warehouse is a clean run's."""
    strict = config_for(drop, tmp_path / "w", extra="max_file_bytes: 1\n")
    deflect(strict, check_rc=0)
    assert set(_statuses(strict)) == {"quarantined"} and _deflections(strict) == 0
    fixed = config_for(drop, tmp_path / "w")
    deflect(fixed, check_rc=0)
    assert snapshot(warehouse_of(fixed))["marts.fct_deflection"] == clean["marts.fct_deflection"]
    assert "quarantined" not in _statuses(fixed) or _statuses(fixed)["quarantined"] < sum(
        _statuses(fixed).values())


def test_a_wrong_meg_unit_fixed_lets_its_files_load(drop, clean, tmp_path):
    text = (drop / "deflect.yaml").read_text()
    unit = next(line.split(":")[1].strip() for line in text.splitlines()
                if line.strip().startswith("unit:"))
    wrong = config_for(drop, tmp_path / "w", replace=((f"unit: {unit}\n", "unit: XXXX\n"),))
    deflect(wrong, check_rc=0)
    with connect(warehouse_of(wrong), read_only=True) as wh:
        f05 = wh.scalar("SELECT count(DISTINCT file_name) FROM meta.finding WHERE code = 'F05'")
    assert f05 > 0
    fixed = config_for(drop, tmp_path / "w")
    deflect(fixed, check_rc=0)
    assert snapshot(warehouse_of(fixed))["marts.fct_deflection"] == clean["marts.fct_deflection"]


def test_a_replayed_quarantined_file_is_checked_again_and_history_is_kept(drop, tmp_path):
    strict = config_for(drop, tmp_path / "w", extra="max_file_bytes: 1\n")
    deflect(strict, check_rc=0)
    with connect(warehouse_of(strict), read_only=True) as wh:
        name = wh.scalar("SELECT min(remote_name) FROM meta.file_ledger "
                         "WHERE source = 'tracs-isp' AND status = 'quarantined'")
    fixed = config_for(drop, tmp_path / "w")
    replayed = deflect(fixed, "--source", "tracs-isp", str(next(drop.rglob(name))),
                       command="replay", check_rc=0)
    assert "replayed" in replayed.stdout
    with connect(warehouse_of(fixed), read_only=True) as wh:
        now = wh.query("SELECT status, duplicate_of FROM meta.file_ledger "
                       "WHERE remote_name = ? AND sha256 IS NOT NULL", [name])
        history = [s for (s,) in wh.query(
            "SELECT status FROM meta.file_ledger_history WHERE remote_name = ? "
            "ORDER BY load_seq", [name])]
    assert now == [("loaded", None)]
    assert history[0] == "quarantined" and history[-1] == "loaded"


def test_another_person_key_secret_is_refused_and_rekey_makes_every_key_again(drop, tmp_path):
    config = config_for(drop, tmp_path / "w")
    deflect(config, check_rc=0)
    other = {**os.environ, "DEFLECT_PERSON_KEY": "another-secret"}
    refused = deflect(config, env=other)
    assert refused.returncode == 2 and "deflect rekey" in refused.stderr
    assert "another-secret" not in refused.stderr + refused.stdout
    with connect(warehouse_of(config), read_only=True) as wh:
        before = wh.query("SELECT count(*), count(DISTINCT person_key) FROM reporting.deflection")
        flags = wh.scalar("SELECT count(*) FROM reporting.deflection WHERE flags LIKE '%W10%'")
    deflect(config, "--as-of", "2026-08-12", command="rekey", env=other, check_rc=0)
    with connect(warehouse_of(config), read_only=True) as wh:
        after = wh.query("SELECT count(*), count(DISTINCT person_key) FROM reporting.deflection")
        flags_after = wh.scalar(
            "SELECT count(*) FROM reporting.deflection WHERE flags LIKE '%W10%'")
    assert after == before and flags_after == flags  # the same people, keyed anew
    deflect(config, env=other, check_rc=0)  # and the new secret is the warehouse's now


def test_rekey_refuses_when_a_loaded_file_left_the_archive(drop, tmp_path):
    config = config_for(drop, tmp_path / "w")
    deflect(config, check_rc=0)
    day = next(p for p in (config.parent / "landing" / "tracs-isp").iterdir() if p.is_dir())
    shutil.rmtree(day)
    other = {**os.environ, "DEFLECT_PERSON_KEY": "another-secret"}
    refused = deflect(config, command="rekey", env=other)
    assert refused.returncode == 3 and "no longer in the landing archive" in refused.stderr


@pytest.mark.parametrize("as_of, force, status", [
    ("0001-01-01", False, 2), ("9999-12-31", True, 2), ("2099-01-01", False, 2),
    ("not-a-date", False, 2),
])
def test_an_as_of_date_out_of_range_is_refused_before_anything_is_written(
        drop, tmp_path, as_of, force, status):
    config = config_for(drop, tmp_path / "w")
    proc = deflect(config, "--as-of", as_of, *(["--force-as-of"] if force else []))
    assert proc.returncode == status and "Traceback" not in proc.stderr
    assert not (config.parent / "warehouse.duckdb").exists()


def test_a_wrong_value_type_names_its_key(drop, tmp_path):
    config = config_for(drop, tmp_path / "w", extra="max_file_bytes: abc\n")
    proc = deflect(config)
    assert proc.returncode == 2 and "max_file_bytes" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unreachable_warehouse_is_one_line_and_status_3(drop, tmp_path):
    config = config_for(drop, tmp_path / "w", replace=(
        ("warehouse: duckdb:///warehouse.duckdb",
         "warehouse: postgresql://nobody@127.0.0.1:1/none"),))
    proc = deflect(config)
    assert proc.returncode == 3 and "the warehouse failed" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.postgres
def test_the_run_lock_holds_on_postgresql(pg_url):
    from warehouse.locks import RunLocked, run_lock

    with run_lock(pg_url), pytest.raises(RunLocked, match="another run holds"), \
            run_lock(pg_url):
        pass
    with run_lock(pg_url):  # released
        pass
