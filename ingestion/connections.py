"""SFTP servers and credentials from Airflow connections (a source's `conn_id`).

Where a connection comes from:
- `AIRFLOW_CONN_<CONN_ID upper>` in the environment, in Airflow's URI form
  (`sftp://login@host:port?host_key=...&key_file=...`) or its JSON form
  (`{"conn_type": "sftp", "host": ..., "login": ..., "port": ..., "extra": {...}}`), read here
  without importing Airflow: `deflect run` and the tests need no Airflow for it. Airflow's own
  environment backend reads the same variable the same way, so a task sees the same connection.
- otherwise Airflow's secrets backends through the Task SDK (`airflow.sdk.Connection.get`),
  imported only then: inside a task that is the metadata database, Vault or whatever the
  deployment configures.

The extras are those of Airflow's SFTP/SSH provider: `host_key` (the pinned server key,
"ssh-ed25519 AAAA..." or the base64 alone), `key_file` (a path) or `private_key` (the key's
text), `private_key_passphrase`. `no_host_key_check` true is refused: the host key is always
pinned. Login is by key only, as with `key_file:` in the configuration; a password is not used.
Nothing here logs a connection: its extras may hold a private key.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import paramiko

from deflect.core.config import SourceConfig

ENV_PREFIX = "AIRFLOW_CONN_"
SFTP_TYPES = ("sftp", "ssh")


class ConnectionProblem(ValueError):
    """A connection that is missing, not an SFTP connection, or unsafe (no pinned host key)."""


@dataclass(frozen=True)
class SftpConnection:
    conn_id: str
    host: str
    port: int
    login: str | None
    host_key: str  # "<type> <base64>", as `host_key:` in the configuration
    key_file: Path | None = None
    # the key itself when the connection carries it; never printed (repr) nor logged
    private_key: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)


def env_var(conn_id: str) -> str:
    return ENV_PREFIX + conn_id.upper()


def resolve(conn_id: str, environ=None) -> SftpConnection:
    """The connection `conn_id`: from the environment, else from Airflow's secrets backends."""
    environ = os.environ if environ is None else environ
    value = environ.get(env_var(conn_id))
    if value is not None and value.strip():
        return _from_env_value(conn_id, value.strip())
    return _from_airflow(conn_id)


def _from_env_value(conn_id: str, value: str) -> SftpConnection:
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError as exc:
            # the message says where, never what: the value may hold a private key
            raise ConnectionProblem(f"connection {conn_id!r}: {env_var(conn_id)} is not valid "
                                    f"JSON (line {exc.lineno}, column {exc.colno})") from None
        if not isinstance(data, dict):
            raise ConnectionProblem(f"connection {conn_id!r}: {env_var(conn_id)} is not a JSON "
                                    "object")
        extra = data.get("extra") or {}
        if isinstance(extra, str):  # Airflow also accepts the extras as a JSON string
            try:
                extra = json.loads(extra) if extra.strip() else {}
            except json.JSONDecodeError:
                raise ConnectionProblem(f"connection {conn_id!r}: its extra is not valid JSON") \
                    from None
        return _build(conn_id, data.get("conn_type"), data.get("host"), data.get("port"),
                      data.get("login"), extra)
    return _from_uri(conn_id, value)


def _from_uri(conn_id: str, uri: str) -> SftpConnection:
    """Airflow's URI form: extras as query parameters, or all of them as JSON in `__extra__`."""
    parts = urlsplit(uri)
    conn_type = parts.scheme.replace("-", "_")
    extra: dict = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "__extra__":
            try:
                loaded = json.loads(value)
            except json.JSONDecodeError:
                raise ConnectionProblem(f"connection {conn_id!r}: its __extra__ is not valid "
                                        "JSON") from None
            if isinstance(loaded, dict):
                extra.update(loaded)
        else:
            extra[key] = value
    try:
        port = parts.port
    except ValueError:
        raise ConnectionProblem(f"connection {conn_id!r}: the port is not a number") from None
    login = unquote(parts.username) if parts.username else None
    host = unquote(parts.hostname) if parts.hostname else None
    return _build(conn_id, conn_type, host, port, login, extra)


def _from_airflow(conn_id: str) -> SftpConnection:
    try:
        from airflow.sdk import Connection
    except ImportError:
        raise ConnectionProblem(f"connection {conn_id!r}: {env_var(conn_id)} is not set and "
                                "Airflow is not installed to look it up") from None
    try:
        conn = Connection.get(conn_id)
    except Exception as exc:  # noqa: BLE001 - not found, or no Airflow context: one clear line
        raise ConnectionProblem(
            f"connection {conn_id!r} not found: {env_var(conn_id)} is not set and Airflow's "
            f"secrets backends did not give it ({type(exc).__name__})") from None
    if conn is None:
        raise ConnectionProblem(f"connection {conn_id!r} not found: {env_var(conn_id)} is not "
                                "set and Airflow has no such connection")
    return _build(conn_id, conn.conn_type, conn.host, conn.port, conn.login,
                  conn.extra_dejson or {})


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _build(conn_id: str, conn_type, host, port, login, extra: dict) -> SftpConnection:
    where = f"connection {conn_id!r}"
    if (conn_type or "").lower() not in SFTP_TYPES:
        raise ConnectionProblem(f"{where}: conn_type must be sftp or ssh, not {conn_type!r}")
    if not host:
        raise ConnectionProblem(f"{where}: no host")
    if _truthy(extra.get("no_host_key_check", False)):
        raise ConnectionProblem(f"{where}: no_host_key_check is set; deflect connects only to a "
                                "pinned host key: set the host_key extra and remove "
                                "no_host_key_check")
    pinned = _host_key_line(where, extra.get("host_key"))
    key_file = extra.get("key_file") or None
    private_key = extra.get("private_key") or None
    if not key_file and not private_key:
        raise ConnectionProblem(f"{where}: no private key: set the key_file or private_key "
                                "extra (login is by key only)")
    try:
        port = int(port) if port not in (None, "") else 22
    except (TypeError, ValueError):
        raise ConnectionProblem(f"{where}: the port is not a number") from None
    return SftpConnection(conn_id=conn_id, host=str(host), port=port, login=login or None,
                          host_key=pinned, key_file=Path(key_file) if key_file else None,
                          private_key=private_key,
                          passphrase=extra.get("private_key_passphrase") or None)


def _host_key_line(where: str, value) -> str:
    """"<type> <base64>" from the host_key extra; the SFTP provider also takes the base64
    alone, whose type is then read from the key itself (the SSH wire format names it first)."""
    if not value or not str(value).strip():
        raise ConnectionProblem(f"{where}: no host_key extra; the server's key must be pinned")
    parts = str(value).split()
    b64 = parts[1] if len(parts) >= 2 else parts[0]
    try:
        blob = base64.b64decode(b64, validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        kind = blob[4:4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise ConnectionProblem(f"{where}: the host_key extra is not an SSH public key") from None
    if len(parts) >= 2 and parts[0] != kind:
        raise ConnectionProblem(f"{where}: the host_key extra says {parts[0]} but holds a "
                                f"{kind} key")
    return f"{kind} {b64}"


def load_private_key(conn: SftpConnection) -> paramiko.PKey:
    """The private key of a connection, from its text (kept in memory, never written) or file."""
    if conn.private_key:
        text = conn.private_key.replace("\\n", "\n")  # a key pasted into one line of JSON/URI
        for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                return key_class.from_private_key(io.StringIO(text), password=conn.passphrase)
            except (paramiko.SSHException, ValueError):
                continue
        raise ConnectionProblem(f"connection {conn.conn_id!r}: the private_key extra is not a "
                                "readable private key")
    return paramiko.PKey.from_path(conn.key_file, conn.passphrase.encode()
                                   if conn.passphrase else None)


def resolved_source(source: SourceConfig, environ=None) -> tuple[SourceConfig, paramiko.PKey]:
    """The source with its connection's server, login and host key filled in (url, host_key,
    key_file), and the private key to log in with."""
    conn = resolve(source.conn_id, environ)
    host = f"[{conn.host}]" if ":" in conn.host else conn.host  # an IPv6 address in a URL
    netloc = (quote(conn.login, safe="") + "@" if conn.login else "") + f"{host}:{conn.port}"
    url = f"sftp://{netloc}{quote(source.path)}"
    pkey = load_private_key(conn)
    # model_copy does not validate: the conn_id/url rule is for the file, not for this copy
    return source.model_copy(update={"url": url, "host_key": conn.host_key,
                                     "key_file": conn.key_file}), pkey
