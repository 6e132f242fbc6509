"""Listing and fetching over a real OpenSSH sshd (read-only SFTP on loopback)."""
from __future__ import annotations

import hashlib
import os

import pytest

from deflect.core.config import SourceConfig
from ingestion.landing import atomic_file
from ingestion.transport import HostKeyMismatch, SftpDrop, SourceError, fingerprint, open_drop

pytestmark = pytest.mark.sshd
# paramiko's prefetch thread dies with the connection when the proxy cuts it; the download is
# retried (or the source fails) in the main thread, which is what these tests check
CUT_WARNING = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def _drop_with(sshd_server, subdir, files: dict[str, bytes]):
    d = sshd_server.root_dir / subdir
    d.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


def test_lists_and_fetches_over_sftp(sshd_server, tmp_path):
    data = os.urandom(300_000)
    _drop_with(sshd_server, "t1", {"a.xml": data, "a.xml.sha256": b"x"})
    (sshd_server.root_dir / "t1" / "subdir").mkdir(exist_ok=True)
    src = sshd_server.source("t", "tracs", "t1")
    with open_drop(src) as drop:
        names = {e.name: e for e in drop.list()}
        assert set(names) == {"a.xml", "a.xml.sha256"}  # directories are not listed
        assert names["a.xml"].size == len(data)
        assert drop.read_small("a.xml.sha256") == b"x"
        assert drop.read_small("missing") is None
        w = drop.fetch("a.xml", lambda: atomic_file(tmp_path / "land"))
    assert w.sha.hexdigest() == hashlib.sha256(data).hexdigest()
    assert w.tmp.read_bytes() == data
    assert oct(w.tmp.stat().st_mode & 0o777) == "0o600"


def test_wrong_host_key_refuses_and_names_host_and_fingerprint(sshd_server):
    src = sshd_server.source("t", "tracs", "t2", host_key=sshd_server.other_host_key_line)
    with pytest.raises(HostKeyMismatch) as err:
        SftpDrop(src).connect()
    msg = str(err.value)
    assert f"127.0.0.1:{sshd_server.port}" in msg
    assert err.value.fingerprint.startswith("SHA256:") and err.value.fingerprint in msg
    assert "nothing was fetched" in msg


def test_read_only_account(sshd_server):
    _drop_with(sshd_server, "t3", {"a.xml": b"abc"})
    with open_drop(sshd_server.source("t", "tracs", "t3")) as drop, pytest.raises(OSError):
        drop.sftp.remove(drop._remote("a.xml"))
    assert (sshd_server.root_dir / "t3" / "a.xml").exists()


def test_unreachable_server_fails_after_bounded_retries(sshd_server, monkeypatch):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    monkeypatch.setattr("ingestion.transport.time.sleep", lambda s: None)
    src = sshd_server.source("t", "tracs", "t4", port=dead_port, retries=2)
    with pytest.raises(SourceError, match="failed after 3 attempts"):
        SftpDrop(src).connect()


@CUT_WARNING
def test_cut_mid_download_is_retried_and_leaves_no_partial(sshd_server, cutting_proxy, tmp_path,
                                                           monkeypatch):
    monkeypatch.setattr("ingestion.transport.time.sleep", lambda s: None)
    data = os.urandom(2_000_000)
    _drop_with(sshd_server, "t5", {"big.xml": data})
    proxy = cutting_proxy(cut_after=600_000, cuts=1)
    src = sshd_server.source("t", "tracs", "t5", port=proxy.port)
    land = tmp_path / "land"
    with open_drop(src) as drop:
        w = drop.fetch("big.xml", lambda: atomic_file(land))
    assert proxy.cut_done == 1 and proxy.connections >= 2
    assert w.sha.hexdigest() == hashlib.sha256(data).hexdigest()
    assert [p.name for p in land.iterdir()] == [w.tmp.name]  # only the complete temporary file


@CUT_WARNING
def test_cut_every_time_fails_cleanly(sshd_server, cutting_proxy, tmp_path, monkeypatch):
    monkeypatch.setattr("ingestion.transport.time.sleep", lambda s: None)
    _drop_with(sshd_server, "t6", {"big.xml": os.urandom(2_000_000)})
    proxy = cutting_proxy(cut_after=600_000, cuts=100)
    src = sshd_server.source("t", "tracs", "t6", port=proxy.port, retries=1)
    land = tmp_path / "land"
    with pytest.raises(SourceError), open_drop(src) as drop:
        drop.fetch("big.xml", lambda: atomic_file(land))
    assert list(land.iterdir()) == []


def test_fingerprint_format(sshd_server):
    import base64

    import paramiko
    kind, b64 = sshd_server.host_key_line.split()
    key = paramiko.PKey.from_type_string(kind, base64.b64decode(b64))
    assert fingerprint(key).startswith("SHA256:") and not fingerprint(key).endswith("=")


def test_download_asks_for_one_window_at_a_time(sshd_server, tmp_path, monkeypatch):
    """Never more than FETCH_WINDOW requested ahead of the writer, whatever the file's size."""
    import paramiko.sftp_file

    from ingestion.transport import FETCH_WINDOW

    data = os.urandom(2 * FETCH_WINDOW + 12345)
    _drop_with(sshd_server, "windows", {"big.xml": data})
    asked = []
    real = paramiko.sftp_file.SFTPFile.readv

    def spy(self, chunks, *args, **kwargs):
        asked.append(sum(length for _, length in chunks))
        return real(self, chunks, *args, **kwargs)

    monkeypatch.setattr(paramiko.sftp_file.SFTPFile, "readv", spy)
    src = sshd_server.source("t", "tracs", "windows")
    with open_drop(src) as drop:
        w = drop.fetch("big.xml", lambda: atomic_file(tmp_path / "land"))
    assert w.tmp.read_bytes() == data and w.size == len(data)
    assert asked == [FETCH_WINDOW, FETCH_WINDOW, 12345]


def test_reads_as_much_as_the_server_allows_per_request(sshd_server, tmp_path, monkeypatch):
    """OpenSSH's sftp-server announces 255 KB reads (limits@openssh.com): a download asks for that
    much per request, not paramiko's 32 KB, and still gets the file byte for byte."""
    import paramiko.sftp_file

    from ingestion.transport import MAX_READ_REQUEST

    data = os.urandom(3_000_001)
    _drop_with(sshd_server, "sizes", {"big.xml": data})
    sizes = []
    real = paramiko.sftp_file.SFTPFile.readv

    def spy(self, chunks, *args, **kwargs):
        sizes.extend(length for _, length in chunks)
        return real(self, chunks, *args, **kwargs)

    monkeypatch.setattr(paramiko.sftp_file.SFTPFile, "readv", spy)
    with open_drop(sshd_server.source("t", "tracs", "sizes")) as drop:
        assert 32 * 1024 < drop.read_size <= MAX_READ_REQUEST
        w = drop.fetch("big.xml", lambda: atomic_file(tmp_path / "land"))
    assert w.tmp.read_bytes() == data
    assert max(sizes) == drop.read_size and len(sizes) == -(-len(data) // drop.read_size)


def test_aes_gcm_is_negotiated_and_a_server_without_it_still_serves(sshd_server, tmp_path):
    """AES-GCM (one authenticated encryption per packet) is offered first; a server that
    does not offer it gets paramiko's default as before."""
    import subprocess

    from devtools import local_sftp

    data = os.urandom(100_000)
    _drop_with(sshd_server, "gcm", {"a.xml": data})
    with open_drop(sshd_server.source("t", "tracs", "gcm")) as drop:
        assert drop.transport.remote_cipher == drop.transport.local_cipher == \
            "aes256-gcm@openssh.com"
        assert drop.fetch("a.xml", lambda: atomic_file(tmp_path / "a")).tmp.read_bytes() == data

    # the same account on a second sshd offering CTR ciphers only
    config, host_key, user, port = local_sftp.prepare(sshd_server.root_dir, tmp_path / "ctr", 0)
    config.write_text(config.read_text() + "Ciphers aes128-ctr,aes256-ctr\n")
    proc = subprocess.Popen([local_sftp.SSHD, "-D", "-e", "-f", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        local_sftp.wait_listening(port, proc, timeout=10.0)
        src = SourceConfig(name="t", kind="tracs",
                           url=f"sftp://{user}@127.0.0.1:{port}{sshd_server.root_dir / 'gcm'}",
                           host_key=host_key, key_file=tmp_path / "ctr" / "user_ed25519")
        with open_drop(src) as drop:
            assert drop.transport.remote_cipher == "aes128-ctr"
            w = drop.fetch("a.xml", lambda: atomic_file(tmp_path / "b"))
            assert w.tmp.read_bytes() == data
    finally:
        local_sftp.terminate(proc)
