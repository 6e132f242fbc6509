"""What the reliability tests share: a small generated drop, a configuration over it in a
folder of its own, the `deflect` command run as a real process (optionally with a fault), and a
snapshot of a warehouse to compare two of them table by table."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from generator.config import GeneratorConfig
from generator.generate import generate
from warehouse import connect
from warehouse.backend import quote_ident

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-08-12"
# columns that name the run, batch or moment that wrote a row: equal warehouses differ there
VOLATILE = {"run_id", "batch_id", "load_seq", "handled_at", "resolved_run_id",
            "resolved_load_seq", "landing_path", "raw_path", "started_at", "finished_at",
            "applied_at", "set_at", "reviewed_at", "changed_run_id", "superseded_run_id"}
COMPARED = ["staging", "meta", "marts"]
SKIP_TABLES = {"meta.load_audit", "meta.load_run", "meta.file_ledger_history",
               "meta.schema_migrations"}  # history of runs: a killed run leaves its own rows


def make_drop(out: Path) -> Path:
    generate(GeneratorConfig(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 10), seed=5,
                             forms_per_day=6, attachment_kb=1, defect_rate=0.05,
                             pending_at_end=False), out)
    return out


def config_for(drop: Path, where: Path, extra: str = "", replace: tuple = ()) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    text = (drop / "deflect.yaml").read_text(encoding="utf-8")
    # the generated configuration reads the drop through URLs relative to it (file:tracs/...)
    text = text.replace("url: file:", f"url: file://{drop}/")
    for old, new in replace:
        text = text.replace(old, new)
    path = where / "deflect.yaml"
    path.write_text(extra + text, encoding="utf-8")
    return path


def deflect(config: Path | None, *args: str, fault: str | None = None, check_rc=None,
            command: str = "run", env=None):
    cmd = [sys.executable, "-m", "tests.reliability.faults", fault] if fault else [
        sys.executable, "-c", "import sys; from deflect.cli import main; sys.exit(main())"]
    tail = [command] + (["--config", str(config)] if config else [])
    if command == "run":
        tail += ["--workers", "1"] + ([] if "--as-of" in args else ["--as-of", AS_OF])
    proc = subprocess.run([*cmd, *tail, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False, env=env)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr[-3000:]
    return proc


def warehouse_of(config: Path) -> str:
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
            rows = wh.query(f"SELECT {', '.join(quote_ident(c) for c in cols)} "
                            f"FROM {schema}.{name}")
            out[f"{schema}.{name}"] = sorted(map(repr, rows))
    return out
