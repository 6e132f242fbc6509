"""devtools.local_sftp: a real sshd on loopback, key-only, read-only, started and stopped by pid."""
from __future__ import annotations

import json
import socket
import subprocess
import sys

import paramiko
import pytest

from deflect.core.config import SourceConfig
from devtools import local_sftp
from tests.dags.helpers import ROOT

pytestmark = pytest.mark.sshd


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _client(server) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    host, b64 = server.host_key.split()[:2]
    client.get_host_keys().add(f"[{server.host}]:{server.port}", host,
                               paramiko.Ed25519Key(data=__import__("base64").b64decode(b64)))
    client.connect(server.host, server.port, server.username, key_filename=server.key_file,
                   look_for_keys=False, allow_agent=False, timeout=5)
    return client


def test_cli_start_serves_read_only_and_stop_ends_it(tmp_path):
    served = tmp_path / "drop" / "meg" / "SIEG"
    served.mkdir(parents=True)
    (served / "CaseActivity_SIEG_20260901.xml").write_text("<x/>")
    state = tmp_path / "sftp.json"
    cmd = [sys.executable, "-m", "devtools.local_sftp"]
    subprocess.run([*cmd, "start", str(tmp_path / "drop"), "--state", str(state)], cwd=ROOT,
                   check=True, timeout=30)
    server = local_sftp.read_state(state)
    data = json.loads(state.read_text())
    assert data["url_prefix"] == f"sftp://{server.username}@127.0.0.1:{server.port}{tmp_path / 'drop'}"
    try:
        assert _listening(server.port)
        client = _client(server)
        sftp = client.open_sftp()
        assert sftp.listdir(str(served)) == ["CaseActivity_SIEG_20260901.xml"]
        with pytest.raises(PermissionError):
            sftp.open(str(served / "new.xml"), "w")
        with pytest.raises(OSError):
            sftp.remove(str(served / "CaseActivity_SIEG_20260901.xml"))
        client.close()
        assert (served / "CaseActivity_SIEG_20260901.xml").exists()
    finally:
        subprocess.run([*cmd, "stop", "--state", str(state)], cwd=ROOT, check=True, timeout=30)
    assert not state.exists()
    assert not _listening(server.port)


def test_pipeline_transport_lists_through_the_pinned_key(tmp_path):
    from ingestion.transport import open_drop

    (tmp_path / "tracs").mkdir()
    (tmp_path / "tracs" / "a.xml").write_bytes(b"<a/>")
    with local_sftp.serve(tmp_path) as server:
        source = SourceConfig(name="tracs-isp", kind="tracs", url=server.url("tracs"),
                              host_key=server.host_key, key_file=server.key_file)
        with open_drop(source) as drop:
            assert [(e.name, e.size) for e in drop.list()] == [("a.xml", 4)]
        port = server.port
    assert not _listening(port)


def test_restart_keeps_the_host_key(tmp_path):
    keys = tmp_path / "keys"
    with local_sftp.serve(tmp_path, state_dir=keys) as first:
        pinned = first.host_key
    with local_sftp.serve(tmp_path, state_dir=keys) as second:
        assert second.host_key == pinned


def test_sftp_sources_rewrites_file_sources(tmp_path):
    (tmp_path / "meg" / "SIEG").mkdir(parents=True)
    cfg = tmp_path / "deflect.yaml"
    cfg.write_text("warehouse: duckdb:///w.duckdb\nlanding_dir: landing\n"
                   "person_key_secret_env: DEFLECT_PERSON_KEY\nsources:\n"
                   "  - {name: meg-sieg, kind: meg, unit: SIEG, url: 'file:meg/SIEG'}\n")
    server = local_sftp.SftpServer("127.0.0.1", 2222, "u", "ssh-ed25519 AAAA", "/k", str(tmp_path),
                                   str(tmp_path), 1)
    [src] = local_sftp.sftp_sources(cfg, server)
    assert src == {"name": "meg-sieg", "kind": "meg", "unit": "SIEG",
                   "url": f"sftp://u@127.0.0.1:2222{tmp_path / 'meg' / 'SIEG'}",
                   "host_key": "ssh-ed25519 AAAA", "key_file": "/k", "connect_timeout": 10,
                   "retries": 2}
