"""Run ids and where a run keeps its files.

A run id starts with a UTC timestamp, so run ids sort by time: `deflect run` and every DAG run
make them the same way, and `latest_run_id` sees both.

    <work_dir>/runs/<run_id>/run.json         run id, as-of date, start time (and replay origin)
                             sources/<name>.json, batches/<batch_id>[.json], load.json, summary.json
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from pathlib import Path


def new_run_id(tag: str | None = None) -> str:
    """`YYYYmmddTHHMMSSZ-<8 hex>`; the hex part is random, or derived from `tag` (an Airflow
    DAG run names the run it came from this way)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = hashlib.sha256(tag.encode()).hexdigest()[:8] if tag else uuid.uuid4().hex[:8]
    return f"{stamp}-{suffix}"


def runs_dir(work_dir: Path) -> Path:
    return Path(work_dir) / "runs"


def run_dir(config, run_id: str) -> Path:
    """The folder of one run under the configuration's `work_dir`."""
    return runs_dir(config.work_dir) / run_id


def run_info(config, run_id: str) -> dict:
    """run.json of a run: its id, as-of date and start time."""
    return read_json(run_dir(config, run_id) / "run.json")


def latest_run_id(config) -> str:
    """The newest run directory (run ids sort by time)."""
    base = runs_dir(config.work_dir)
    runs = sorted(p.name for p in base.glob("*") if (p / "run.json").exists())
    if not runs:
        raise FileNotFoundError(f"no runs under {base}")
    return runs[-1]


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_json(path: Path, data) -> None:
    """Written whole or not at all (temporary name, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
