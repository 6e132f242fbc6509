"""docker/ for real: the images built, the compose stack started (PostgreSQL, Redis, the seeded
SFTP server, Airflow's API server, scheduler, DAG processor, triggerer and two Celery workers),
a night run by the scheduler, its III.E.3 counts (and the other reporting figures) equal to the
generator's ground truth, everything removed afterwards (containers, network, volumes).

Needs a Docker engine: one already running, or Debian's dockerd started here as root
(docker/local/engine.sh; stopped again afterwards if it was started here) and the Compose v2
plugin. With DEFLECT_DOCKER_BASE=official the official base images are used (a registry must be
reachable); otherwise the local stand-ins of docker/local/build-base.sh (debootstrap).

Images are tagged with a hash of what goes into them (the files .dockerignore lets into the
context, the Dockerfiles, the base image's id): a rerun with the same content finds the tag and
builds nothing. The timings are printed (`-s`) for docs/operations.md.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from scripts.demo_result import counts_by_unit_quarter, followup_key, isp_counts_by_unit_quarter
from tests.dags.helpers import ROOT

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(2400)]

DOCKER = ROOT / "docker"
PROJECT = "deflect-stack-test"  # not the project name an operator's own stack uses
LOCAL_IMAGES = DOCKER / "local" / "images.env"

# Run inside the scheduler container: the run's figures from the warehouse, and which hosts ran
# the nightly's tasks (the two Celery workers).
CHECK = """
import json
from airflow.models import TaskInstance
from airflow.utils.session import create_session
from deflect.configuration import load_config
from deflect.core.runs import latest_run_id
from deflect.summary import summary

config = load_config("/etc/deflect/deflect.yaml")
result = summary(config, latest_run_id(config))
with create_session() as session:
    hosts = sorted({h for (h,) in session.query(TaskInstance.hostname)
                    .filter(TaskInstance.dag_id == "deflect_nightly") if h})
print(json.dumps({"summary": result, "hostnames": hosts}, default=str))
"""


def _run(args: list[str], timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=ROOT, **kw)


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def engine():
    """A running Docker engine with Compose v2; stopped afterwards only if started here."""
    if os.environ.get("DEFLECT_STACK_TEST") != "1":
        # 8 min warm, 20 min cold and 4 GB of disk: run by `make test-stack`, and wherever
        # docker/ changes, not by every `make test` (docs/operations.md, Production)
        pytest.skip("the container stack test runs with DEFLECT_STACK_TEST=1 (make test-stack)")
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on PATH")
    if _run(["docker", "compose", "version"], timeout=60).returncode != 0:
        pytest.skip("no Docker Compose v2 plugin (docker compose)")
    start = _run(["bash", str(DOCKER / "local" / "engine.sh"), "start"], timeout=120)
    if start.returncode == 2:
        pytest.skip(f"no Docker engine can start here: {start.stderr.strip()}")
    _ok(start)
    yield
    if start.stdout.strip() == "started":
        _ok(_run(["bash", str(DOCKER / "local" / "engine.sh"), "stop"], timeout=120))


def _image_id(tag: str) -> str | None:
    proc = _run(["docker", "image", "inspect", "-f", "{{.Id}}", tag], timeout=60)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _context_files() -> list[Path]:
    """The files .dockerignore lets into the build context (its `!` lines, less caches)."""
    files = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        if not line.startswith("!"):
            continue
        path = ROOT / line[1:].rstrip("/")
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [p for p in found if "__pycache__" not in p.parts
                  and p.suffix not in (".pyc", ".duckdb", ".wal")]
    return files


def content_tag(name: str, dockerfile: Path, base_image: str) -> str:
    digest = hashlib.sha256(f"{base_image}={_image_id(base_image)}\n".encode())
    for path in [dockerfile, ROOT / ".dockerignore", *_context_files()]:
        digest.update(f"{path.relative_to(ROOT)}\n".encode() + path.read_bytes())
    return f"{name}:{digest.hexdigest()[:16]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stack(engine):
    """Base images, project images (built only when their content tag is missing), secrets, and
    the stack up and healthy; torn down with its volumes even when the test fails."""
    timings: dict[str, float] = {}
    env = dict(os.environ)
    if os.environ.get("DEFLECT_DOCKER_BASE") == "official":
        base = {"PYTHON_IMAGE": "python:3.11-slim", "DEBIAN_IMAGE": "debian:bookworm-slim"}
    else:
        if _image_id("local/debian:bookworm") is None and shutil.which("debootstrap") is None:
            pytest.skip("no local base image and no debootstrap to make one "
                        "(apt-get install debootstrap)")
        t = time.monotonic()
        _ok(_run(["bash", str(DOCKER / "local" / "build-base.sh")], timeout=1800))
        timings["base images"] = time.monotonic() - t
        base = dict(line.split("=", 1) for line in LOCAL_IMAGES.read_text().splitlines()
                    if line and not line.startswith("#"))
    env.update(base)
    env["DEFLECT_IMAGE"] = content_tag("deflect-airflow", DOCKER / "Dockerfile",
                                       base["PYTHON_IMAGE"])
    env["DEFLECT_SFTP_IMAGE"] = content_tag("deflect-sftp", DOCKER / "sftp" / "Dockerfile",
                                            base["DEBIAN_IMAGE"])
    env["DEFLECT_API_PORT"] = str(_free_port())
    compose = ["docker", "compose", "-p", PROJECT, "-f", str(DOCKER / "compose.yaml")]

    to_build = [svc for svc, tag in (("airflow-init", env["DEFLECT_IMAGE"]),
                                     ("sftp", env["DEFLECT_SFTP_IMAGE"])) if not _image_id(tag)]
    t = time.monotonic()
    if to_build:
        _ok(_run([*compose, "build", *to_build], timeout=3600, env=env))
    timings["project images" + ("" if to_build else " (found by content tag)")] = \
        time.monotonic() - t
    _ok(_run(["bash", str(DOCKER / "make-secrets.sh")], timeout=120))
    try:
        t = time.monotonic()
        up = _run([*compose, "up", "-d", "--wait", "--wait-timeout", "900"], timeout=1000,
                  env=env)
        if up.returncode != 0:
            logs = _run([*compose, "logs", "--tail", "40"], env=env).stdout
            pytest.fail(f"the stack did not become healthy:\n{up.stderr[-2000:]}\n{logs[-6000:]}")
        timings["stack up and healthy"] = time.monotonic() - t
        yield compose, env, timings
    finally:
        _run([*compose, "down", "--volumes", "--remove-orphans", "--timeout", "20"],
             timeout=300, env=env)


def _exec(stack, service: str, *args: str, input: str | None = None) -> str:
    compose, env, _ = stack
    return _ok(_run([*compose, "exec", "-T", service, *args], env=env, input=input, timeout=600))


def _airflow_json(stack, *args: str):
    out = _exec(stack, "airflow-scheduler", "airflow", *args, "-o", "json")
    return json.loads(out.strip().splitlines()[-1])


def _wait_for_run(stack, dag_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _airflow_json(stack, "dags", "list-runs", dag_id)
        done = [r for r in runs if r["state"] in ("success", "failed")]
        if done:
            return done[0]
        time.sleep(15)
    pytest.fail(f"{dag_id}: no finished run in {timeout:.0f} s")


def test_stack_runs_a_night_equal_to_the_ground_truth(stack):
    timings = stack[2]
    # Created paused (compose.yaml): the reporting DAG first, so the nightly's asset event
    # schedules it; unpausing the nightly starts the most recent scheduled night at once.
    _exec(stack, "airflow-scheduler", "airflow", "dags", "unpause", "deflect_reporting")
    t = time.monotonic()
    _exec(stack, "airflow-scheduler", "airflow", "dags", "unpause", "deflect_nightly")
    nightly = _wait_for_run(stack, "deflect_nightly", timeout=1200)
    assert nightly["state"] == "success", nightly
    assert nightly["run_id"].startswith("scheduled__")
    timings["nightly run"] = time.monotonic() - t
    reporting = _wait_for_run(stack, "deflect_reporting", timeout=600)
    assert reporting["state"] == "success", reporting
    timings["nightly and reporting runs"] = time.monotonic() - t

    manifest = json.loads(_exec(stack, "sftp", "cat", "/srv/drop/manifest.json"))
    checked = json.loads(_exec(stack, "airflow-scheduler", "python", "-", input=CHECK)
                         .strip().splitlines()[-1])
    result, truth = checked["summary"], manifest["reporting"]
    assert result["failed_sources"] == []
    isp = counts_by_unit_quarter(result["isp_deflection_counts"])
    assert isp and isp == isp_counts_by_unit_quarter(truth["deflection"])  # III.E.3
    assert counts_by_unit_quarter(result["deflection_counts"]) == \
        counts_by_unit_quarter(truth["deflection_counts"])
    # follow-up: the referrals per unit and quarter; whether one is due or overdue depends on
    # the as-of date, here the scheduled night's, not the generator's (test_nightly_dag.py
    # checks those figures with the generator's as-of date)
    referrals = {k: v[0] for k, v in followup_key(result["followup_compliance"]).items()}
    assert referrals == {k: v[0] for k, v in followup_key(truth["followup_compliance"]).items()}
    # CeleryExecutor: both workers took tasks of the night
    assert len(checked["hostnames"]) == 2, checked["hostnames"]

    df = _run(["docker", "system", "df"], timeout=120).stdout
    print("\n" + "\n".join(f"{k}: {v:.0f} s" for k, v in timings.items()) + "\n" + df)
