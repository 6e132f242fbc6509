"""Faults at each stage of a real `deflect run` process (tests/reliability/faults.py): killed
with SIGKILL while downloading, validating, loading, refreshing and publishing, then run again,
the warehouse equals that of a clean run, table by table; a full disk ends in one line and exit
status 3, and leaves the reporting views as they were; a second run at the same time is refused.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.config import GeneratorConfig
from generator.generate import generate
from tests.reliability.faults import KILL_POINTS
from warehouse import connect
from warehouse.backend import quote_ident

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-08-12"
# columns that name the run, batch or moment that wrote a row: equal warehouses differ there
VOLATILE = {"run_id", "batch_id", "load_seq", "handled_at", "resolved_run_id",
            "resolved_load_seq", "landing_path", "raw_path", "started_at", "finished_at",
            "applied_at", "set_at", "reviewed_at"}
COMPARED = ["staging", "meta", "marts"]
SKIP_TABLES = {"meta.load_audit", "meta.load_run", "meta.file_ledger_history",
               "meta.schema_migrations"}  # history of runs: a killed run leaves its own rows


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "drop"
    generate(GeneratorConfig(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 10), seed=5,
                             forms_per_day=6, attachment_kb=1, defect_rate=0.05,
                             pending_at_end=False), out)
    return out


def _config(drop: Path, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    text = (drop / "deflect.yaml").read_text(encoding="utf-8")
    path = where / "deflect.yaml"
    # the generated configuration reads the drop through URLs relative to it (file:tracs/...)
    path.write_text(text.replace("url: file:", f"url: file://{drop}/"), encoding="utf-8")
    return path


def _deflect(config: Path, *args: str, fault: str | None = None, check_rc=None):
    cmd = [sys.executable, "-m", "tests.reliability.faults", fault] if fault else [
        sys.executable, "-c", "import sys; from deflect.cli import main; sys.exit(main())"]
    proc = subprocess.run([*cmd, "run", "--config", str(config), "--as-of", AS_OF,
                           "--workers", "1", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr[-3000:]
    return proc


def _warehouse(config: Path) -> str:
    return f"duckdb://{config.parent / 'warehouse.duckdb'}"


def snapshot(url: str) -> dict:
    """Every table of the compared schemas, without the columns that name a run, sorted."""
    out = {}
    with connect(url, read_only=True) as wh:
        tables = wh.query("SELECT table_schema, table_name FROM information_schema.tables "
                          "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2")
        for schema, name in tables:
            if schema not in COMPARED or f"{schema}.{name}" in SKIP_TABLES:
                continue
            cols = [c for (c,) in wh.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", [schema, name])
                if c not in VOLATILE]
            rows = wh.query(f"SELECT {', '.join(quote_ident(c) for c in cols)} FROM {schema}.{name}")
            out[f"{schema}.{name}"] = sorted(map(repr, rows))
    return out


@pytest.fixture(scope="module")
def clean(drop, tmp_path_factory):
    config = _config(drop, tmp_path_factory.mktemp("clean"))
    _deflect(config, check_rc=0)
    return snapshot(_warehouse(config))


@pytest.mark.parametrize("stage", sorted(KILL_POINTS))
def test_killed_at_a_stage_then_run_again_equals_a_clean_run(stage, drop, clean, tmp_path):
    config = _config(drop, tmp_path / "w")
    killed = _deflect(config, fault=stage)
    assert killed.returncode == -9, killed.stderr[-2000:]
    _deflect(config, check_rc=0)
    again = snapshot(_warehouse(config))
    assert again.keys() == clean.keys()
    differ = [t for t in clean if again[t] != clean[t]]
    assert differ == []
    # nothing half-written is left behind by the run after
    assert not list((config.parent / "landing").rglob(".part-*"))
    assert not list((config.parent / "work").glob("runs/*/batches/.*.tmp-*"))


def test_a_full_disk_ends_in_one_line_and_leaves_the_views_as_they_were(drop, tmp_path):
    config = _config(drop, tmp_path / "w")
    _deflect(config, check_rc=0)
    before = snapshot(_warehouse(config))
    for d in (config.parent / "landing").glob("*"):  # a new landing area: everything again
        if d.is_dir():
            shutil.rmtree(d)
    with connect(_warehouse(config)) as wh:
        wh.execute("DELETE FROM meta.file_ledger")
    full = _deflect(config, fault="disk-full")
    assert "Traceback" not in full.stderr
    assert full.returncode in (1, 3), full.stderr[-2000:]
    after = snapshot(_warehouse(config))
    for table in ("marts.fct_deflection", "marts.deflection_counts"):
        assert after[table] == before[table]


def test_a_second_run_at_the_same_time_is_refused(drop, tmp_path):
    from warehouse.locks import run_lock

    config = _config(drop, tmp_path / "w")
    with run_lock(_warehouse(config)):
        second = _deflect(config)
    assert second.returncode == 3
    assert "another run holds the warehouse" in second.stderr
    assert "Traceback" not in second.stderr
