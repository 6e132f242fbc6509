"""SFTP sources given by an Airflow connection (`conn_id`): the environment's URI and JSON forms,
the host key always pinned, a missing connection named, and a real sshd reached through one."""
from __future__ import annotations

import base64
import json
import struct
import uuid
from urllib.parse import quote

import pytest

from deflect.core.config import SourceConfig
from ingestion.connections import ConnectionProblem, env_var, resolve, resolved_source
from ingestion.transport import SftpDrop, SourceError
from tests.ingestion.helpers import TRACS_NAME, put_tracs, tracs_doc

ED25519 = base64.b64encode(struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32)
                           + bytes(range(32))).decode()
HOST_KEY = f"ssh-ed25519 {ED25519}"


def _source(conn_id: str = "tracs_sftp", path: str = "/exports/tracs") -> SourceConfig:
    return SourceConfig(name="tracs-isp", kind="tracs", url=f"sftp://{path}", conn_id=conn_id,
                        retries=0, connect_timeout=5.0)


def test_env_uri_form(tmp_path):
    env = {"AIRFLOW_CONN_TRACS_SFTP": f"sftp://deflect@tracs.example:2222/ignored?host_key="
                                      f"{quote(HOST_KEY)}&key_file=%2Fetc%2Fdeflect%2Fid"}
    conn = resolve("tracs_sftp", env)
    assert (conn.host, conn.port, conn.login, conn.host_key, str(conn.key_file)) == (
        "tracs.example", 2222, "deflect", HOST_KEY, "/etc/deflect/id")


def test_env_uri_form_with_extras_as_json_and_a_bare_base64_host_key():
    extra = quote(json.dumps({"host_key": ED25519, "key_file": "/k"}))
    conn = resolve("x", {"AIRFLOW_CONN_X": f"ssh://me@h?__extra__={extra}"})
    # the type is read from the key itself, as Airflow's provider accepts the base64 alone
    assert (conn.port, conn.host_key) == (22, HOST_KEY)


@pytest.mark.parametrize("extra_as_string", [False, True])
def test_env_json_form(extra_as_string):
    extra = {"host_key": HOST_KEY, "private_key": "-----BEGIN...", "no_host_key_check": "false"}
    value = json.dumps({"conn_type": "sftp", "host": "10.0.0.5", "login": "deflect", "port": 22,
                        "extra": json.dumps(extra) if extra_as_string else extra})
    conn = resolve("tracs_sftp", {"AIRFLOW_CONN_TRACS_SFTP": value})
    assert (conn.host, conn.port, conn.login, conn.host_key, conn.key_file) == (
        "10.0.0.5", 22, "deflect", HOST_KEY, None)
    assert conn.private_key == "-----BEGIN..."
    assert "BEGIN" not in repr(conn)  # never printed with the connection


@pytest.mark.parametrize("value", ["true", "True", True])
def test_no_host_key_check_is_refused(value):
    env = {"AIRFLOW_CONN_C": json.dumps({
        "conn_type": "sftp", "host": "h", "extra": {"no_host_key_check": value,
                                                    "host_key": HOST_KEY, "key_file": "/k"}})}
    with pytest.raises(ConnectionProblem, match="connection 'c': no_host_key_check is set"):
        resolve("c", env)


@pytest.mark.parametrize("value, message", [
    ("sftp://u@h?key_file=/k", "no host_key extra"),
    (f"sftp://u@h?host_key={quote(HOST_KEY)}", "no private key"),
    (f"http://u@h?host_key={quote(HOST_KEY)}&key_file=/k", "conn_type must be sftp or ssh"),
    ("sftp://u@h?host_key=not-a-key&key_file=/k", "not an SSH public key"),
    ('{"conn_type": "sftp", "host": "h", "extra": {"private_key": "SECRET"', "not valid JSON"),
])
def test_an_unusable_connection_says_why_without_its_secrets(value, message):
    with pytest.raises(ConnectionProblem, match=message) as info:
        resolve("c", {"AIRFLOW_CONN_C": value})
    assert "SECRET" not in str(info.value)


def test_a_missing_connection_is_named(monkeypatch):
    monkeypatch.delenv(env_var("nowhere_sftp"), raising=False)
    # not in the environment, and no Airflow task to ask: the error names both places
    with pytest.raises(ConnectionProblem, match="connection 'nowhere_sftp' not found: "
                                                "AIRFLOW_CONN_NOWHERE_SFTP is not set"):
        resolve("nowhere_sftp")


def test_a_missing_connection_fails_the_source_not_the_process(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NOWHERE_SFTP", raising=False)
    with pytest.raises(SourceError, match="source tracs-isp: connection 'nowhere_sftp'"):
        SftpDrop(_source("nowhere_sftp")).connect()


def test_resolved_source_fills_server_and_pin_and_keeps_the_directory(tmp_path, monkeypatch):
    key = tmp_path / "id"
    key.write_text("unused")
    env = {"AIRFLOW_CONN_TRACS_SFTP": json.dumps({
        "conn_type": "sftp", "host": "tracs.example", "login": "de flect", "port": 2200,
        "extra": {"host_key": HOST_KEY, "key_file": str(key)}})}
    monkeypatch.setattr("ingestion.connections.load_private_key", lambda conn: "PKEY")
    source, pkey = resolved_source(_source(path="/exports/a b"), env)
    assert (source.host, source.port, source.username, source.path) == (
        "tracs.example", 2200, "de%20flect", "/exports/a b")
    assert (source.host_key, source.key_file, pkey) == (HOST_KEY, key, "PKEY")


# -- end to end against a real sshd ---------------------------------------------------------------

@pytest.fixture
def remote(sshd_server):
    sub = f"c-{uuid.uuid4().hex[:8]}"
    path = sshd_server.root_dir / sub
    path.mkdir()
    put_tracs(path, TRACS_NAME, tracs_doc())
    return path


@pytest.mark.sshd
@pytest.mark.parametrize("form", ["uri-key-file", "json-private-key"])
def test_a_source_given_only_by_conn_id_lists_and_fetches(sshd_server, remote, monkeypatch,
                                                          form):
    s = sshd_server
    if form == "uri-key-file":
        value = (f"sftp://{s.username}@{s.host}:{s.port}?host_key={quote(s.host_key_line)}"
                 f"&key_file={quote(str(s.key_file))}")
    else:
        value = json.dumps({"conn_type": "sftp", "host": s.host, "port": s.port,
                            "login": s.username,
                            "extra": {"host_key": s.host_key_line,
                                      "private_key": s.key_file.read_text()}})
    monkeypatch.setenv("AIRFLOW_CONN_TRACS_SFTP", value)
    source = _source(path=str(remote))
    assert source.host is None and source.host_key is None  # nothing but the directory
    with SftpDrop(source) as drop:
        names = {e.name for e in drop.list()}
        assert TRACS_NAME in names
        assert drop.read_small(TRACS_NAME + ".sha256")


@pytest.mark.sshd
def test_a_connection_pinning_another_key_is_refused(sshd_server, remote, monkeypatch):
    s = sshd_server
    monkeypatch.setenv("AIRFLOW_CONN_TRACS_SFTP", (
        f"sftp://{s.username}@{s.host}:{s.port}?host_key={quote(s.other_host_key_line)}"
        f"&key_file={quote(str(s.key_file))}"))
    with pytest.raises(SourceError, match="does not match the pinned key"):
        SftpDrop(_source(path=str(remote))).connect()
