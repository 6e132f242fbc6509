"""Airflow on loopback with the steward workbench: the API server (which mounts the plugin), the
scheduler and the DAG processor, so that a replay the workbench triggers really runs. SQLite
metadata in its own Airflow home, the simple auth manager with the users given (names, roles,
passwords written to its passwords file). Used by the workbench's browser test and `make demo`.

    python -m devtools.workbench_server --home DIR --config deflect.yaml [--port 8080]
        [--user steward:user:PASSWORD] [--user reader:viewer:PASSWORD]

runs until interrupted. In Python: `with serve(home, config, users) as base_url: ...`.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
COMPONENTS = ("api-server", "scheduler", "dag-processor")
# What the workbench starts (a replay) and what a replay's load triggers (the report).
UNPAUSED = ("deflect_replay", "deflect_reporting")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def airflow_env(home: Path, config: Path, port: int, users: dict[str, tuple[str, str]],
                **extra: str) -> dict:
    """The environment of every component: one Airflow home, this checkout's DAGs and plugins,
    the simple auth manager with `users` ({name: (role, password)})."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({name: pw for name, (_, pw) in users.items()}))
    passwords.chmod(0o600)
    jwt = home / "jwt_secret"
    if not jwt.exists():  # one secret for every component: the workers' tokens must verify
        jwt.write_text(secrets.token_hex(32))
        jwt.chmod(0o600)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "America/Chicago",
        # the nightly DAG stays paused: nothing runs here unless asked (see UNPAUSED)
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            f"{name}:{role}" for name, (role, _) in users.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt.read_text(),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "SCARF_ANALYTICS": "false",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "DEFLECT_CONFIG": str(config),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    })
    env.update(extra)
    return env


def wait_until_up(base_url: str, procs: list[subprocess.Popen], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"an Airflow component exited with {p.returncode}: {p.args}")
        try:
            with urllib.request.urlopen(base_url + "/api/v2/monitor/health", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"the API server did not answer on {base_url} within {timeout} s")


@contextmanager
def serve(home: Path, config: Path, users: dict[str, tuple[str, str]], port: int | None = None,
          **extra: str):
    """Migrate the metadata, start the components, yield the base URL; stop them after."""
    port = port or free_port()
    env = airflow_env(Path(home), Path(config), port, users, **extra)
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    logs = Path(home) / "component-logs"
    logs.mkdir(exist_ok=True)
    procs = []
    try:
        for name in COMPONENTS:
            args = [*airflow, name] + (["--port", str(port)] if name == "api-server" else [])
            with open(logs / f"{name}.log", "ab") as log:
                # own process group: stopping it stops the component's children too
                procs.append(subprocess.Popen(args, env=env, cwd=ROOT, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        base_url = f"http://{HOST}:{port}"
        wait_until_up(base_url, procs)
        unpause(airflow, env, UNPAUSED)
        yield base_url
    finally:
        for p in reversed(procs):  # the API server last: the others report to it
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def unpause(airflow: list[str], env: dict, dag_ids, timeout: float = 300) -> None:
    """Unpause the DAGs once the DAG processor has written them to the metadata database."""
    deadline = time.monotonic() + timeout
    for dag_id in dag_ids:
        while True:
            done = subprocess.run([*airflow, "dags", "unpause", dag_id], env=env, cwd=ROOT, check=False,
                                  capture_output=True, text=True, timeout=120)
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not unpause {dag_id}: {done.stderr[-500:]}")
            time.sleep(2)


def _stop(signum, frame):
    raise KeyboardInterrupt


def _user(text: str) -> tuple[str, tuple[str, str]]:
    name, role, password = text.split(":", 2)
    return name, (role, password)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--config", required=True, type=Path)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--user", action="append", type=_user, default=[],
                    help="NAME:ROLE:PASSWORD (roles: viewer, user, op, admin)")
    args = ap.parse_args(argv)
    users = dict(args.user) or {"steward": ("user", secrets.token_urlsafe(9))}
    signal.signal(signal.SIGTERM, _stop)  # a `kill` stops the components too
    signal.signal(signal.SIGINT, _stop)  # also when started in the background
    with serve(args.home, args.config.resolve(), users, port=args.port) as base_url:
        print(f"Airflow with the steward workbench: {base_url}/deflect-workbench/", flush=True)
        for name, (role, password) in users.items():
            print(f"  sign in as {name} ({role}), password {password}", flush=True)
        print("  Ctrl-C stops it", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
