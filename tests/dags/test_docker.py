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
        assert svc["build"]["dockerfile"] == "docker/Dockerfile", name
        assert svc["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert svc["environment"]["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert services["airflow-worker"]["deploy"]["replicas"] == 2
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


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
    assert re.findall(r"^FROM .*$", text, re.MULTILINE) == ["FROM python:3.11-slim"]
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
