"""Running Airflow's own command line in a subprocess with an isolated home and SQLite metadata
(`dag.test()` inside pytest needs the DAG synced to a metadata database first; the CLI does it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"


def airflow_env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "America/Chicago",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "SCARF_ANALYTICS": "false",
        "DEFLECT_AIRFLOW_RETRY_DELAY": "1",  # a failing task must not hold the test for minutes
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    })
    env.update(extra)
    return env


def airflow(args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "airflow", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_state(proc: subprocess.CompletedProcess) -> str | None:
    """The final DAG run state `airflow dags test` logs ("DagRun Finished: ... state=success")."""
    text = proc.stdout + proc.stderr
    marker = "DagRun Finished:"
    for line in reversed(text.splitlines()):
        if marker in line and "state=" in line:
            return line.split("state=", 1)[1].split(",", 1)[0].strip()
    return None


def tail(proc: subprocess.CompletedProcess, n: int = 60) -> str:
    lines = (proc.stdout + proc.stderr).splitlines()
    keep = [ln for ln in lines if "graphviz" not in ln]
    return "\n".join(keep[-n:])
