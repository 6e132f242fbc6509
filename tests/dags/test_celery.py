"""The nightly DAG under Airflow's CeleryExecutor: `scripts/scale-out-local.sh celery` starts a
Redis broker of its own, the API server, DAG processor, scheduler and two Celery workers with
their own host names and queues, PostgreSQL for the metadata, the Celery results and the warehouse,
and the drop over SFTP from a loopback sshd. The scheduler starts the latest night by itself and
the reporting DAG follows on the staging asset, as in production.

What must hold: the mapped tasks ran on both workers (the host names the task instances recorded
in the metadata database), the warehouse writers only on the worker that takes the `warehouse`
queue, and the reporting views equal the generator's ground truth, which the LocalExecutor run of
the same DAG meets too (test_nightly_dag.py). Every process the script started is gone afterwards,
even when the run fails or times out.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.dags.helpers import ROOT
from tests.dags.test_nightly_dag import assert_equals_truth
from tests.fixtures.postgres import with_database

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.postgres, pytest.mark.sshd]

SCRIPT_TIMEOUT = 1000  # seconds; the script's own deadline (SCALE_TIMEOUT) is shorter
WORKERS = {"deflect-worker-a", "deflect-worker-b"}


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a recycled id of someone else's group: not ours any more
        return False
    return True


def _end_groups(pgids: list[int]) -> None:
    """What the script's own clean-up should have done; done again in case it could not run."""
    for pgid in pgids:
        if _alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


def _pgids(base: Path) -> list[int]:
    path = base / "pgids"
    return [int(line.split()[0]) for line in path.read_text().splitlines()] if path.exists() else []


def _query(url: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.timeout(SCRIPT_TIMEOUT + 120)
def test_nightly_dag_under_celery_runs_on_both_workers_and_equals_ground_truth(
        tmp_path, pg_server_url):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server): the Celery "
                    "mode starts a Redis broker of its own")
    import json

    base = tmp_path / "scale"
    prefix = f"deflect_celery_{uuid.uuid4().hex[:8]}"
    server = urlsplit(pg_server_url)
    env = {**os.environ, "SCALE_DIR": str(base), "SCALE_DB_PREFIX": prefix, "KEEP": "1",
           "SCALE_TIMEOUT": str(SCRIPT_TIMEOUT - 100),
           "DEFLECT_PG_SERVER": f"{server.scheme}://{server.netloc}"}
    meta, warehouse = with_database(pg_server_url, f"{prefix}_meta"), \
        with_database(pg_server_url, f"{prefix}_wh")
    proc = subprocess.Popen(["bash", "scripts/scale-out-local.sh", "celery"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    pgids: list[int] = []
    try:
        try:
            out, _ = proc.communicate(timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the script's trap ends what it started
            out, _ = proc.communicate(timeout=60)
            pytest.fail(f"the Celery run did not finish in {SCRIPT_TIMEOUT} s:\n{out[-4000:]}")
        pgids = _pgids(base)
        assert proc.returncode == 0, out[-6000:]

        # the script ended every process group it started (API server, DAG processor,
        # scheduler, both workers and their task processes, Redis)
        assert len(pgids) == 6, pgids
        time.sleep(1)
        assert not [g for g in pgids if _alive(g)], "processes left running"

        rows = _query(meta, "select dag_id, task_id, map_index, state, hostname, queue "
                            "from task_instance")
        nightly = [r for r in rows if r[0] == "deflect_nightly"]
        assert nightly and all(r[3] == "success" for r in nightly), nightly
        mapped = [r for r in nightly if r[1] in ("plan", "process")]
        assert {r[4] for r in mapped if r[1] == "process"} == WORKERS, mapped
        assert {r[4] for r in mapped if r[1] == "plan"} == WORKERS, mapped
        assert {r[5] for r in mapped} == {"default"}
        writers = [r for r in rows if r[1] in ("begin", "load", "refresh")]
        assert len(writers) == 3, writers
        assert {(r[4], r[5]) for r in writers} == {("deflect-worker-a", "warehouse")}
        assert {r[3] for r in rows if r[0] == "deflect_reporting"} == {"success"}

        manifest = json.loads((base / "drop" / "manifest.json").read_text())
        assert_equals_truth(warehouse, manifest)
        for line in ("every origin, equal the ground truth: yes",
                     "III.E.3 counts (ISP-originated) equal the ground truth:          yes",
                     "Follow-up figures equal the ground truth:                        yes"):
            assert line in out, out[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        _end_groups(pgids or _pgids(base))
        if (base / "sftp.json").exists():  # the script was killed before its clean-up
            subprocess.run([sys.executable, "-m", "devtools.local_sftp", "stop", "--state",
                            str(base / "sftp.json")], cwd=ROOT, check=False, timeout=60)
        subprocess.run(["psql", "-q", pg_server_url,
                        "-c", f"DROP DATABASE IF EXISTS {prefix}_meta WITH (FORCE)",
                        "-c", f"DROP DATABASE IF EXISTS {prefix}_wh WITH (FORCE)"],
                       check=False, capture_output=True, timeout=60)
