"""Listing and fetching a drop: SFTP (paramiko, pinned host key) or a local directory (file://).

Both give the same view: `list()` of plain files with size and mtime (whole seconds), `read_small`
for sidecars, `fetch` streaming a file into a writer. The remote account is read-only and treated
as such: nothing here renames, writes or deletes on the server.
"""
from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import logging
import os
import posixpath
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko
import tenacity
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY

from deflect.core.config import SourceConfig

log = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class RemoteEntry:
    name: str
    size: int
    mtime: int


# Linux only; elsewhere the connection simply keeps the kernel's delayed ACKs.
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class _QuickAckSocket(socket.socket):
    """A client socket that acknowledges at once what it receives while `quick_ack` is set.

    After authentication sshd sends two small messages (a host-keys notice, a debug line) and,
    Nagle being on for a non-interactive session, holds its answer to our channel open until
    they are acknowledged; our kernel delays that ACK by 40 ms because we have nothing to send.
    Every connection paid those 40 ms, two thirds of its set-up, and a run opens two per source.
    Linux leaves quick-ACK mode by itself, hence the option set again before each read."""

    quick_ack = True

    def recv(self, bufsize, flags=0):
        if self.quick_ack:
            self.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
        return super().recv(bufsize, flags)


def _client_socket(host: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket with TCP_NODELAY (and quick ACKs where the system has them)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    if _TCP_QUICKACK is not None:
        quick = _QuickAckSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        quick.settimeout(timeout)
        sock = quick
    # Without TCP_NODELAY, Nagle meets delayed ACKs and every small file costs ~28 ms
    # (field notes).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _bulk(sock, on: bool) -> None:
    """Quick ACKs cost a little throughput in a long transfer, where they gain nothing."""
    if isinstance(sock, _QuickAckSocket):
        sock.quick_ack = not on


class SourceError(Exception):
    """The source as a whole cannot be processed (host key, authentication, network)."""


class HostKeyMismatch(SourceError):
    def __init__(self, host: str, port: int, offered: paramiko.PKey, pinned: str):
        self.host, self.port = host, port
        self.fingerprint = fingerprint(offered)
        pinned_fp = _pinned_fingerprint(pinned)
        super().__init__(
            f"host key of {host}:{port} does not match the pinned key: the server offered "
            f"{offered.get_name()} {self.fingerprint}, the configuration pins {pinned_fp}; "
            "nothing was fetched"
        )


class TransientError(Exception):
    """A network problem worth retrying (reset, EOF, timeout, SSH-level error)."""


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style SHA256 fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _pinned_fingerprint(line: str) -> str:
    try:
        kind, b64 = line.split()[:2]
        digest = hashlib.sha256(base64.b64decode(b64)).digest()
        return f"{kind} SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")
    except (ValueError, binascii.Error):  # a malformed pin is still a mismatch; say so
        return "(malformed host_key)"


def host_key_matches(key: paramiko.PKey, pinned: str) -> bool:
    parts = (pinned or "").split()
    return len(parts) >= 2 and parts[0] == key.get_name() and parts[1] == key.get_base64()


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (FileNotFoundError, PermissionError)):
        return False  # an answer from the server, not a network problem
    if isinstance(exc, (SourceError, paramiko.AuthenticationException, paramiko.BadHostKeyException)):
        return False
    return isinstance(exc, (OSError, EOFError, paramiko.SSHException, TransientError))


# Waits between attempts: 0.5 s, 1 s, 2 s, 4 s, then 8 s each.
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 8.0


def _retry_policy(what: str, source: SourceConfig) -> tenacity.Retrying:
    """Retry a transient failure up to `source.retries` times with exponential backoff, then
    raise SourceError naming `what`; any other error goes through at once."""
    where = f"{source.host}:{source.port}"

    def log_retry(state: tenacity.RetryCallState) -> None:
        # host and port, never the URL: it may carry a password
        exc = state.outcome.exception()
        log.warning("%s: %s (%s); retry %d of %d against %s in %.1f s", what,
                    type(exc).__name__, exc, state.attempt_number, source.retries, where,
                    state.next_action.sleep)

    def give_up(state: tenacity.RetryCallState):
        exc = state.outcome.exception()
        raise SourceError(f"{what}: failed after {state.attempt_number} attempts: "
                          f"{type(exc).__name__}: {exc}") from exc

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(_is_transient),
        stop=tenacity.stop_after_attempt(source.retries + 1),
        wait=tenacity.wait_exponential(multiplier=RETRY_FIRST_DELAY, max=RETRY_MAX_DELAY),
        before_sleep=log_retry,
        retry_error_callback=give_up,
        # looked up at each wait, so that tests which patch time.sleep do not wait
        sleep=lambda seconds: time.sleep(seconds),
    )


class LocalDrop:
    """A local directory with the same listing and completion semantics as an SFTP drop."""

    def __init__(self, source: SourceConfig):
        self.source = source
        self.root = Path(source.path)

    def __enter__(self):
        if not self.root.is_dir():
            raise SourceError(f"source {self.source.name}: {self.root} is not a directory")
        return self

    def __exit__(self, *exc):
        return False

    def list(self) -> list[RemoteEntry]:
        entries = []
        with os.scandir(self.root) as it:
            for e in it:
                if not e.is_file(follow_symlinks=False):
                    continue  # directories, links, devices: never data files
                st = e.stat(follow_symlinks=False)
                entries.append(RemoteEntry(e.name, st.st_size, int(st.st_mtime)))
        return entries

    def _path(self, name: str) -> Path:
        if "/" in name or "\x00" in name or name in (".", ".."):
            raise ValueError(f"not a plain file name: {name!r}")
        return self.root / name

    def read_small(self, name: str, limit: int = 4096) -> bytes | None:
        try:
            with open(self._path(name), "rb") as fh:
                return fh.read(limit + 1)
        except FileNotFoundError:
            return None

    def fetch(self, name: str, writer_factory, limit: int | None = None):
        """Copy a file through a fresh writer from `writer_factory()` (a context manager); at
        most `limit` + 1 bytes (the caller compares the size with the listing). A link or any
        other non-regular file is not followed (FileNotFoundError: not the file listed)."""
        try:
            fd = os.open(self._path(name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO):
                raise FileNotFoundError(f"{name} is no longer a regular file") from None
            raise
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise FileNotFoundError(f"{name} is no longer a regular file")
            left = None if limit is None else limit + 1
            with writer_factory() as writer:
                while left is None or left > 0:
                    chunk = fh.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
                    if not chunk:
                        break
                    writer.write(chunk)
                    if left is not None:
                        left -= len(chunk)
        return writer


class SftpDrop:
    """An SFTP drop over one connection (paramiko), with the host key pinned."""

    def __init__(self, source: SourceConfig):
        self.source = source
        self.transport: paramiko.Transport | None = None
        self.sftp: paramiko.SFTPClient | None = None
        self.read_size = _REQUEST  # what the server accepts per read; asked at each connection
        self.pkey: paramiko.PKey | None = None  # from the source's connection (conn_id)

    # -- connection -------------------------------------------------------------------------
    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def connect(self) -> None:
        if self.source.conn_id and self.pkey is None:
            self._resolve_connection()
        s = self.source
        _retry_policy(f"source {s.name}: connect to {s.host}:{s.port}", s)(self._connect_once)

    def _resolve_connection(self) -> None:
        """Server, login, host key and private key from the source's Airflow connection; once
        per drop, not per attempt (a secrets backend is not asked again on a network retry)."""
        from ingestion.connections import ConnectionProblem, resolved_source

        try:
            self.source, self.pkey = resolved_source(self.source)
        except (ConnectionProblem, OSError, paramiko.SSHException) as exc:
            raise SourceError(f"source {self.source.name}: {exc}") from None

    def _connect_once(self) -> None:
        s = self.source
        self.close()
        sock = _client_socket(s.host, s.port, s.connect_timeout)
        try:
            transport = paramiko.Transport(sock, default_window_size=CHANNEL_WINDOW,
                                           default_max_packet_size=CHANNEL_MAX_PACKET)
            prefer_aead_ciphers(transport)
            transport.banner_timeout = s.connect_timeout
            transport.start_client(timeout=s.connect_timeout)
            offered = transport.get_remote_server_key()
            if not host_key_matches(offered, s.host_key or ""):
                transport.close()
                raise HostKeyMismatch(s.host, s.port, offered, s.host_key or "")
            if self.pkey is not None:
                pkey = self.pkey
            elif s.key_file is None:
                raise SourceError(f"source {s.name}: no key_file configured")
            else:
                pkey = paramiko.PKey.from_path(s.key_file)
            try:
                transport.auth_publickey(s.username or os.environ.get("USER", ""), pkey)
            except paramiko.AuthenticationException as exc:
                transport.close()
                raise SourceError(f"source {s.name}: authentication to {s.host}:{s.port} "
                                  f"as {s.username!r} failed: {exc}") from None
            self.transport = transport
            self.sftp = paramiko.SFTPClient.from_transport(transport)
            self.sftp.get_channel().settimeout(s.connect_timeout)
            self.read_size = read_request_size(self.sftp)
        except BaseException:
            if self.transport is None:
                sock.close()
            raise

    def close(self) -> None:
        for thing in (self.sftp, self.transport):
            try:
                if thing is not None:
                    thing.close()
            except (OSError, EOFError, paramiko.SSHException):
                pass  # closing a broken connection may fail: it is gone either way
        self.sftp = self.transport = None

    def _retry(self, what: str, func):
        """Run an operation; on a transient error reconnect and try again (bounded)."""
        def attempt():
            if self.sftp is None:
                self._connect_once()
            try:
                return func()
            except Exception as exc:
                if _is_transient(exc):
                    self.close()  # reconnect on the next attempt
                raise
        return _retry_policy(f"source {self.source.name}: {what}", self.source)(attempt)

    def _remote(self, name: str) -> str:
        if "/" in name or "\x00" in name or name in (".", ".."):
            raise ValueError(f"not a plain file name: {name!r}")
        return posixpath.join(self.source.path, name)

    # -- operations -------------------------------------------------------------------------
    def list(self) -> list[RemoteEntry]:
        def op():
            out = []
            for a in self.sftp.listdir_attr(self.source.path):
                if a.st_mode is not None and not stat.S_ISREG(a.st_mode):
                    continue
                out.append(RemoteEntry(a.filename, int(a.st_size or 0), int(a.st_mtime or 0)))
            return out
        return self._retry(f"list {self.source.path}", op)

    def read_small(self, name: str, limit: int = 4096) -> bytes | None:
        def op():
            try:
                with self.sftp.open(self._remote(name), "rb") as fh:
                    return fh.read(limit + 1)
            except FileNotFoundError:
                return None
        return self._retry(f"read {name}", op)

    def fetch(self, name: str, writer_factory, limit: int | None = None):
        """Stream a remote file, at most `limit` + 1 bytes. `writer_factory()` opens a fresh
        local writer per attempt (so a retried download starts from an empty file) and returns
        a context manager."""
        def op():
            with writer_factory() as writer:
                sock = self.transport.sock
                _bulk(sock, True)
                try:
                    _windowed_copy(self.sftp, self._remote(name), writer, self.read_size, limit)
                finally:
                    _bulk(sock, False)
                return writer
        return self._retry(f"fetch {name}", op)


# AES-GCM first: one authenticated encryption per packet where paramiko's default (aes128-ctr
# with hmac-sha2-256) encrypts and then computes an HMAC, in both processes. A 700 MB download
# over loopback: 3.5-3.9 CPU seconds of this process with the default, 2.6-2.8 with GCM
# (docs/performance.md). FIPS-approved like the default; a server without it negotiates the
# default as before.
AEAD_CIPHERS = ("aes256-gcm@openssh.com", "aes128-gcm@openssh.com")


def prefer_aead_ciphers(transport: paramiko.Transport) -> None:
    """Offer AES-GCM before paramiko's other ciphers (all of which are still offered)."""
    options = transport.get_security_options()
    known = [c for c in AEAD_CIPHERS if c in options.ciphers]
    options.ciphers = (*known, *(c for c in options.ciphers if c not in known))


# A download asks for at most this much ahead of what the writer has taken. paramiko's own
# getfo(prefetch=True) asks for the whole file at once; on a busy machine (the other batch, the
# shards and sshd on the same cores) the answers piled up in memory faster than they were
# written: the worker fetching a 700 MB export reached 780 MB.
FETCH_WINDOW = 8 * 1024 * 1024
# Every SFTP server must answer reads of 32 KB (paramiko's and OpenSSH's default request size).
# paramiko spends its time per message, not per byte: OpenSSH's server takes reads of 255 KB,
# and says so through its limits@openssh.com extension, so a download asks it for that much at
# a time: the 700 MB export came 1.7x faster (docs/performance.md). Capped so one window still
# holds a few dozen requests in flight.
_REQUEST = 32 * 1024
MAX_READ_REQUEST = 256 * 1024
# The SSH channel: 16 MB window (two fetch windows) and packets of up to 256 KB, so a 255 KB read
# answer travels in one packet rather than eight (paramiko's defaults: 2 MB and 32 KB).
CHANNEL_WINDOW = 2 * FETCH_WINDOW
CHANNEL_MAX_PACKET = 256 * 1024


# -- paramiko private API ---------------------------------------------------------------------
# Every use this module makes of paramiko's private API, both for the large reads below: an
# underscore method, and a class attribute whose effect on reads paramiko does not document.
# tests/ingestion/test_paramiko_private_api.py fails when a paramiko release changes either.

def _sftp_extended_request(sftp: paramiko.SFTPClient, name: str) -> paramiko.Message | None:
    """Send the SFTP extended request `name` without arguments; return the server's
    SSH_FXP_EXTENDED_REPLY message, or None for any other answer.

    paramiko offers no public way to send an extended request, so this goes through
    `SFTPClient._request(type, *args)`, the call every SFTPClient method makes. Like them it
    raises OSError or EOFError on an error status and SSHException when the connection drops.
    Checked against paramiko 5.1.0 (the locked version); unchanged in the 2.12 to 4.0 sources."""
    kind, msg = sftp._request(CMD_EXTENDED, name)
    return msg if kind == CMD_EXTENDED_REPLY else None


def _set_read_request_size(fh: paramiko.SFTPFile, size: int) -> None:
    """Make read(), readv() and prefetch on this open file ask for up to `size` bytes a request.

    paramiko splits reads by `SFTPFile.MAX_REQUEST_SIZE`, an undocumented class attribute
    (32 KB) with no public setter. Set on this file only, never on the class, which every other
    SFTP user in the process shares.
    Checked against paramiko 5.1.0 (the locked version); unchanged in the 2.12 to 4.0 sources."""
    fh.MAX_REQUEST_SIZE = size


# -- reads --------------------------------------------------------------------------------------
def read_request_size(sftp) -> int:
    """The read size to ask this server for: its limits@openssh.com max-read-length (0 means no
    limit), capped at MAX_READ_REQUEST, or 32 KB from a server without the extension."""
    try:
        msg = _sftp_extended_request(sftp, "limits@openssh.com")
    except (OSError, EOFError, paramiko.SFTPError):
        return _REQUEST  # unsupported: the server said so; nothing else is wrong
    if msg is None:
        return _REQUEST
    msg.get_int64()  # max-packet-length
    max_read = msg.get_int64()
    return MAX_READ_REQUEST if max_read == 0 else min(max_read, MAX_READ_REQUEST)


def _windowed_copy(sftp, remote: str, writer, request: int = _REQUEST,
                   limit: int | None = None) -> int:
    """Copy a remote file to `writer` with paramiko's pipelined reads, one window at a time; at
    most `limit` + 1 bytes when a limit is given (the listed size: one byte more tells the
    caller the file changed)."""
    cap = None if limit is None else limit + 1
    with sftp.open(remote, "rb") as fr:
        _set_read_request_size(fr, request)
        size = fr.stat().st_size
        if cap is not None:
            size = min(size, cap)
        offset = 0
        while offset < size:
            end = min(size, offset + FETCH_WINDOW)
            chunks = [(o, min(request, end - o)) for o in range(offset, end, request)]
            for data in fr.readv(chunks):
                writer.write(data)
            offset = end
        # whatever was appended since the stat: the caller compares the size with the listing
        fr.seek(offset)
        while cap is None or offset < cap:
            data = fr.read(request if cap is None else min(request, cap - offset))
            if not data:
                break
            writer.write(data)
            offset += len(data)
        return offset


def open_drop(source: SourceConfig):
    if source.scheme == "sftp":
        return SftpDrop(source)
    if source.scheme == "file":
        return LocalDrop(source)
    raise SourceError(f"source {source.name}: unsupported URL scheme {source.scheme!r}")
