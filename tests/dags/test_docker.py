"""docker/: what can be checked without Docker. The compose file parses and has the services of a
CeleryExecutor deployment; the image installs exactly the lock file; the SFTP server's sshd_config
is valid for OpenSSH."""
from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.dags.helpers import ROOT

DOCKER = ROOT / "docker"
AIRFLOW_COMMANDS = {
    "airflow-apiserver": ["airflow", "api-server"],
    "airflow-scheduler": ["airflow", "scheduler"],
    "airflow-dag-processor": ["airflow", "dag-processor"],
    "airflow-triggerer": ["airflow", "triggerer"],
    "airflow-worker": ["airflow", "celery", "worker"],
    "airflow-init": ["airflow", "db", "migrate"],
}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_has_every_component(compose):
    services = compose["services"]
    assert set(AIRFLOW_COMMANDS) | {"postgres", "redis", "sftp", "sftp-seed"} <= set(services)
    for name, command in AIRFLOW_COMMANDS.items():
        svc = services[name]
        assert svc["command"][:len(command)] == command, name
        assert svc["image"] == "${DEFLECT_IMAGE:-deflect-airflow:latest}", name
        assert svc["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert svc["environment"]["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert services["airflow-worker"]["deploy"]["replicas"] == 2
    assert services["postgres"]["image"].startswith("${POSTGRES_IMAGE:-postgres:")
    assert services["redis"]["image"].startswith("${REDIS_IMAGE:-redis:")
    # built once: every service naming the image builds it again otherwise
    builders = [n for n, s in services.items() if s.get("build", {}).get("dockerfile")
                == "docker/Dockerfile"]
    assert builders == ["airflow-init"]
    assert services["airflow-init"]["build"]["args"]["PYTHON_IMAGE"] == \
        "${PYTHON_IMAGE:-python:3.11-slim}"


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, svc in compose["services"].items():
        if svc.get("restart") != "no":
            assert svc.get("healthcheck", {}).get("test"), name


def test_dags_are_created_paused(compose):
    # unpausing the nightly starts the latest scheduled night at once: an operator's decision
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True"


def test_compose_secrets_are_files_never_values(compose):
    declared = set(compose["secrets"])
    for name, svc in compose["services"].items():
        assert set(svc.get("secrets", [])) <= declared, name
        env = svc.get("environment") or {}
        for key, value in env.items():
            assert not re.search(r"PASSWORD$|SECRET$|_KEY$", key) or key.endswith("_FILE"), (name, key)
            assert "://" not in str(value) or "@" not in str(value), (name, key)  # no credentials
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("../var/docker-secrets/")  # git ignores /var/


def test_workers_share_the_landing_and_run_areas(compose):
    for name in ("airflow-worker", "airflow-scheduler"):
        assert "deflect-data:/var/lib/deflect" in compose["services"][name]["volumes"]


def test_sftp_is_seeded_before_it_serves(compose):
    sftp = compose["services"]["sftp"]
    assert sftp["depends_on"]["sftp-seed"]["condition"] == "service_completed_successfully"
    assert "sftp-drop:/srv/drop:ro" in sftp["volumes"]
    assert "generator.cli" in (DOCKER / "seed-staging.sh").read_text()


def test_image_installs_exactly_the_lock_file():
    text = (DOCKER / "Dockerfile").read_text()
    assert re.findall(r"^FROM .*$", text, re.MULTILINE) == ["FROM ${PYTHON_IMAGE}"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text  # the official image unless told
    assert "COPY pyproject.toml uv.lock" in text
    syncs = re.findall(r"uv sync ([^\n]+)", text)
    assert syncs and all("--frozen" in s for s in syncs)
    # no other package installs beside the lock file (uv itself, pinned, is the installer)
    assert re.findall(r"pip install[^\n]*", text) == ["pip install --no-cache-dir uv==0.13.9"]
    assert "uv pip install" not in text


def test_image_extras_exist_in_pyproject_and_lock():
    text = (DOCKER / "Dockerfile").read_text()
    extras = set(re.findall(r"--extra (\S+)", text))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    missing = extras - set(project.get("optional-dependencies", {}))
    assert not missing, f"Dockerfile asks for extras pyproject.toml lacks: {sorted(missing)}"
    lock = (ROOT / "uv.lock").read_text()
    for extra in extras:
        for req in project["optional-dependencies"][extra]:
            name = re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower()
            assert f'name = "{name}"' in lock, f"{name} (extra {extra}) is not in uv.lock"


@pytest.mark.sshd
def test_sftp_sshd_config_is_valid(tmp_path):
    key = tmp_path / "host"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    config = (DOCKER / "sftp" / "sshd_config").read_text()
    config = config.replace("/run/secrets/sftp_host_ed25519", str(key))
    assert "ForceCommand internal-sftp -R" in config and "PasswordAuthentication no" in config
    user = "deflect" if subprocess.run(["id", "deflect"], capture_output=True,
                                       check=False).returncode == 0 else "root"
    config = config.replace("AllowUsers deflect", f"AllowUsers {user}")
    (tmp_path / "sshd_config").write_text(config)
    if os.geteuid() == 0:  # `sshd -t` checks the privilege separation directory exists
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = subprocess.run(["/usr/sbin/sshd", "-t", "-f", str(tmp_path / "sshd_config")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def _mounted(compose, service: str) -> set[str]:
    return set(compose["services"][service].get("secrets", []))


def _read_secrets(path: Path) -> set[str]:
    return set(re.findall(r"/run/secrets/([A-Za-z0-9_.]+)", path.read_text()))


def test_scripts_read_only_the_secrets_their_service_mounts(compose):
    assert _read_secrets(DOCKER / "seed-staging.sh") <= _mounted(compose, "sftp-seed")
    assert _read_secrets(DOCKER / "postgres-init.sql") <= _mounted(compose, "postgres")
    sshd = (DOCKER / "sftp" / "sshd_config").read_text()
    assert set(re.findall(r"/run/secrets/(\S+)", sshd)) <= _mounted(compose, "sftp")
    env = compose["x-airflow-common"]["environment"]
    cmd_files = {v.split("/run/secrets/")[1] for k, v in env.items() if k.endswith("_CMD")}
    assert cmd_files | {"airflow_conn_deflect_drop"} <= _mounted(compose, "airflow-scheduler")


def test_the_init_script_creates_the_roles_migrations_grant_to():
    """`deflect` has no CREATEROLE: every role migration 0008 would create exists already."""
    migration = (ROOT / "warehouse" / "migrations" / "0008_roles.postgresql.sql").read_text()
    wanted = set(re.findall(r"'(deflect_\w+)'", re.search(r"ARRAY\[([^]]+)\]", migration)[1]))
    init = (DOCKER / "postgres-init.sql").read_text()
    assert wanted and wanted <= set(re.findall(r"CREATE ROLE (\w+)", init))
    assert "CREATEROLE" not in re.sub(r"--[^\n]*", "", init)


def test_sftp_account_is_unlocked_without_a_password():
    text = (DOCKER / "sftp" / "Dockerfile").read_text()
    assert "usermod -p '*' deflect" in text  # '!' (locked) makes sshd refuse even keys
    assert "PasswordAuthentication no" in (DOCKER / "sftp" / "sshd_config").read_text()


def test_build_context_keeps_secrets_and_environments_out():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert next(x for x in lines if x and not x.startswith("#")) == "*"  # nothing unless named
    allowed = [x[1:] for x in lines if x.startswith("!")]
    assert not [a for a in allowed if a.startswith(("var", ".venv", "tests", "."))]


def test_the_image_copies_every_package_the_wheel_holds():
    """A package added to the project must reach the image, through both the build context and
    a COPY (else the image installs a wheel without it and fails at import)."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"][
        "targets"]["wheel"]["packages"]
    allowed = {x[1:].rstrip("/") for x in (ROOT / ".dockerignore").read_text().splitlines()
               if x.startswith("!")}
    copied = set(re.findall(r"^COPY (\S+)/ ", (DOCKER / "Dockerfile").read_text(),
                            re.MULTILINE))
    assert sorted(p for p in packages if p not in allowed) == []
    assert sorted(p for p in packages if p not in copied) == []


@pytest.mark.sshd
def test_make_secrets_writes_values_without_newlines_and_a_pinned_connection(tmp_path):
    out = tmp_path / "secrets"
    proc = subprocess.run(["bash", str(DOCKER / "make-secrets.sh")], capture_output=True,
                          text=True, env={**os.environ, "DEFLECT_SECRETS_DIR": str(out)},
                          check=False)
    assert proc.returncode == 0, proc.stderr
    for name in ("airflow_db_password", "deflect_db_password", "jwt_secret", "fernet_key",
                 "airflow_db_url", "celery_result_backend", "deflect_person_key"):
        value = (out / name).read_bytes()
        assert value and not value.endswith(b"\n"), name  # `cat` would keep it
    password = (out / "airflow_db_password").read_text()
    assert (out / "airflow_db_url").read_text().endswith(f":{password}@postgres:5432/airflow")
    assert (out / "deflect_pgpass").read_text() == \
        f"postgres:5432:deflect:deflect:{(out / 'deflect_db_password').read_text()}\n"
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o400, path.name
    if os.geteuid() == 0:
        assert (out / "deflect_db_password").stat().st_uid == 999  # postgres
        assert (out / "airflow_conn_deflect_drop").stat().st_uid == 50000  # Airflow
    from ingestion.connections import load_private_key, resolve

    conn = resolve("deflect_drop", {"AIRFLOW_CONN_DEFLECT_DROP":
                                    (out / "airflow_conn_deflect_drop").read_text()})
    assert (conn.host, conn.port, conn.login) == ("sftp", 22, "deflect")
    assert conn.host_key == " ".join((out / "sftp_host_ed25519.pub").read_text().split()[:2])
    public = (out / "deflect_sftp_key.pub").read_text().split()[1]
    assert load_private_key(conn).get_base64() == public
    # a second run keeps every value (it is run before each start)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert subprocess.run(["bash", str(DOCKER / "make-secrets.sh")], capture_output=True,
                          env={**os.environ, "DEFLECT_SECRETS_DIR": str(out)},
                          check=False).returncode == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
