"""A real OpenSSH sshd on loopback serving a directory read-only over SFTP.

Used by the demo and the DAG tests so the pipeline reads its drops exactly as in production:
pinned ed25519 host key, public-key login, `internal-sftp -R` (the account cannot write, as the
real drops are read-only). Works as root (creates /run/sshd) and as an ordinary user.

    python -m devtools.local_sftp start DIR --state FILE [--port N]   # background; writes FILE
    python -m devtools.local_sftp serve DIR --state FILE [--port N]   # foreground until killed
    python -m devtools.local_sftp stop --state FILE

The state file is JSON: host, port, username, host_key (the line to pin), key_file (the private
key to log in with), root, pid, url_prefix. In Python: `with serve(DIR) as server: server.url(...)`.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

SSHD = os.environ.get("DEFLECT_SSHD", "/usr/sbin/sshd")
HOST = "127.0.0.1"


class LocalSftpError(RuntimeError):
    """sshd could not be started or stopped."""


@dataclass
class SftpServer:
    host: str
    port: int
    username: str
    host_key: str  # "ssh-ed25519 AAAA...": what a configuration pins
    key_file: str  # private key the client logs in with
    root: str  # the directory served (absolute paths under it)
    state_dir: str  # keys, sshd_config, pid file
    pid: int

    def url(self, subdir: str = "") -> str:
        """sftp:// URL of a directory under the served root."""
        path = (Path(self.root) / subdir).resolve()
        return f"sftp://{self.username}@{self.host}:{self.port}{path}"

    def source(self, name: str, kind: str, subdir: str, unit: str | None = None) -> dict:
        """A `sources:` entry of the configuration file for a directory under the root."""
        entry = {"name": name, "kind": kind, "url": self.url(subdir),
                 "host_key": self.host_key, "key_file": self.key_file}
        if unit:
            entry["unit"] = unit
        return entry


def sftp_sources(file_config: str | Path, server: SftpServer) -> list[dict]:
    """The `sources:` of a configuration with file:// sources (e.g. the one the generator writes
    beside a drop), rewritten to read the same directories over SFTP from `server`."""
    from deflect.configuration import load_config

    sources = []
    for s in load_config(file_config).sources:
        entry = {"name": s.name, "kind": s.kind}
        if s.unit:
            entry["unit"] = s.unit
        path = s.path if s.scheme == "file" else None
        if path is None:
            raise LocalSftpError(f"source {s.name}: not a file:// source ({s.url})")
        entry |= {"url": server.url(path), "host_key": server.host_key,
                  "key_file": server.key_file, "connect_timeout": 10, "retries": 2}
        sources.append(entry)
    return sources


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def keygen(path: Path) -> str:
    """A new ed25519 key pair (kept when it exists: a restart keeps the pinned host key)."""
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deflect-local",
                        "-f", str(path)], check=True)
    kind, b64 = path.with_name(path.name + ".pub").read_text().split()[:2]
    return f"{kind} {b64}"


def write_sshd_config(state_dir: Path, port: int, username: str) -> Path:
    """The sshd_config of a loopback, key-only, read-only SFTP account (no shell, no forwarding)."""
    config = state_dir / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}",
        f"ListenAddress {HOST}",
        f"HostKey {state_dir / 'host_ed25519'}",
        f"AuthorizedKeysFile {state_dir / 'authorized_keys'}",
        f"PidFile {state_dir / 'sshd.pid'}",
        f"AllowUsers {username}",
        "UsePAM no",
        "StrictModes no",  # keys live in a temporary directory, not ~/.ssh
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password",
        "DisableForwarding yes",
        "PermitTTY no",
        "Subsystem sftp internal-sftp -R",
        "ForceCommand internal-sftp -R",
        "LogLevel ERROR",
        "MaxStartups 64",
        "",
    ]))
    return config


def wait_listening(port: int, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            raise LocalSftpError(f"sshd exited with status {proc.returncode}: {err[-1000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise LocalSftpError(f"sshd did not listen on {HOST}:{port} within {timeout:.0f} s")


def prepare(root: Path, state_dir: Path, port: int) -> tuple[Path, str, str, int]:
    """Keys, authorized_keys and sshd_config in `state_dir` for serving `root`; returns
    (sshd_config path, pinned host key line, user name, port). The user key is
    `state_dir/user_ed25519`."""
    if not Path(SSHD).exists():
        raise LocalSftpError(f"{SSHD} not found: install the Debian package openssh-server")
    root = root.resolve()
    if not root.is_dir():
        raise LocalSftpError(f"{root}: not a directory")
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(state_dir, 0o700)
    host_key = keygen(state_dir / "host_ed25519")
    user_pub = keygen(state_dir / "user_ed25519")
    (state_dir / "authorized_keys").write_text(user_pub + "\n")
    username = getpass.getuser()
    port = port or free_port()
    config = write_sshd_config(state_dir, port, username)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    return config, host_key, username, port


def _server(root: Path, state_dir: Path, host_key: str, username: str, port: int,
            pid: int) -> SftpServer:
    return SftpServer(HOST, port, username, host_key, str(state_dir / "user_ed25519"),
                      str(root.resolve()), str(state_dir), pid)


def start(root: str | Path, state_dir: str | Path, port: int = 0, timeout: float = 10.0,
          foreground: bool = False) -> tuple[SftpServer, subprocess.Popen | None]:
    """Start sshd serving `root`. In the background sshd detaches itself (pid from its PidFile)
    and the returned Popen is None; in the foreground the caller owns the returned process."""
    root, state_dir = Path(root), Path(state_dir)
    config, host_key, username, port = prepare(root, state_dir, port)
    pid_file = state_dir / "sshd.pid"
    pid_file.unlink(missing_ok=True)
    if foreground:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        wait_listening(port, proc, timeout)
        return _server(root, state_dir, host_key, username, port, proc.pid), proc
    done = subprocess.run([SSHD, "-f", str(config)], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise LocalSftpError(f"sshd failed ({done.returncode}): {done.stderr.strip()[-1000:]}")
    wait_listening(port, None, timeout)
    pid = int(pid_file.read_text().strip())
    return _server(root, state_dir, host_key, username, port, pid), None


def stop_pid(pid: int, timeout: float = 5.0) -> bool:
    """Terminate one sshd listener by its pid (its sessions end with it). True when it was running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # reap it when it is our own child
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


@contextmanager
def serve(root: str | Path, state_dir: str | Path | None = None, port: int = 0):
    """Context manager: an SftpServer for the duration of the block."""
    with tempfile.TemporaryDirectory(prefix="deflect-sftp-") as tmp:
        server, proc = start(root, state_dir or tmp, port=port, foreground=True)
        try:
            yield server
        finally:
            terminate(proc)


def terminate(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Stop a foreground sshd: TERM, then KILL if it has not gone within `timeout`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def write_state(server: SftpServer, path: Path) -> None:
    data = asdict(server) | {"url_prefix": server.url()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def read_state(path: str | Path) -> SftpServer:
    data = json.loads(Path(path).read_text())
    data.pop("url_prefix", None)
    return SftpServer(**data)


def _stop_from_state(state: Path) -> int:
    if not state.exists():
        print(f"local_sftp: no state file {state}; nothing to stop", file=sys.stderr)
        return 0
    server = read_state(state)
    was_running = stop_pid(server.pid)
    state.unlink(missing_ok=True)
    print(f"local_sftp: {'stopped' if was_running else 'was not running:'} sshd pid {server.pid}",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.local_sftp", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("start", "serve"):
        s = sub.add_parser(name, help="start sshd in the background" if name == "start"
                           else "run sshd in the foreground until interrupted")
        s.add_argument("root", type=Path, help="directory to serve (read-only)")
        s.add_argument("--state", type=Path, required=True, help="JSON state file to write")
        s.add_argument("--keys-dir", type=Path, help="keys and sshd_config (default: beside --state)")
        s.add_argument("--port", type=int, default=0, help="default: a free port")
    s = sub.add_parser("stop", help="stop the sshd a state file describes")
    s.add_argument("--state", type=Path, required=True)
    args = p.parse_args(argv)

    if args.command == "stop":
        return _stop_from_state(args.state)
    keys = args.keys_dir or args.state.with_name(args.state.stem + "-sshd")
    if args.state.exists():  # a leftover of an earlier run: stop it, keep its keys
        _stop_from_state(args.state)
    try:
        server, proc = start(args.root, keys, port=args.port, foreground=args.command == "serve")
    except LocalSftpError as exc:
        print(f"local_sftp: {exc}", file=sys.stderr)
        return 1
    write_state(server, args.state)
    print(f"local_sftp: serving {server.root} on {server.host}:{server.port} (pid {server.pid})",
          file=sys.stderr)
    if proc is None:
        return 0
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()
    finally:
        args.state.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
