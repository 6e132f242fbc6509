"""A stalled SFTP server (it stops answering mid-download and never closes the connection)
fails its source within the configured timeouts and retries, with nothing half-written, instead
of holding the night; a real OpenSSH sshd behind a loopback proxy that goes silent."""
from __future__ import annotations

import base64
import os
import shutil
import time
import uuid

import pytest

from deflect.core.canonical import LedgerSnapshot
from devtools.ingest import ingest_source
from tests.fixtures.sshd import CuttingProxy
from tests.ingestion.helpers import (
    SECRET,
    make_config,
    put_tracs,
    read_table,
    tracs_doc,
)

pytestmark = [pytest.mark.sshd, pytest.mark.slow]
NAME = "TRACS_IL0849800_20261125T013004_0001.xml"


@pytest.fixture
def stalled(sshd_server):
    proxies = []

    def make(after: int) -> CuttingProxy:
        p = CuttingProxy(sshd_server.port, after, 1000, stall=True)
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.close()


def test_a_stalled_server_fails_its_source_in_bounded_time(sshd_server, stalled, tmp_path):
    sub = f"d-{uuid.uuid4().hex[:8]}"
    path = sshd_server.root_dir / sub
    path.mkdir()
    try:
        big = tracs_doc().replace("JVBERi0xLjcKJeLjz9MK",
                                  base64.b64encode(os.urandom(1_500_000)).decode())
        put_tracs(path, NAME, big)
        proxy = stalled(600_000)  # after the handshake and the listing, mid-download
        source = sshd_server.source("tracs-isp", "tracs", sub, port=proxy.port, retries=1,
                                    connect_timeout=2.0)
        started = time.monotonic()
        result = ingest_source(source, config=make_config(tmp_path, source),
                               ledger=LedgerSnapshot(), run_id="r", batch_dir=tmp_path / "b",
                               secret=SECRET)
        elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(path, ignore_errors=True)
    assert result.status == "failed" and "attempts" in (result.error or "")
    # connect timeout 2 s, two attempts and their backoff: well under a minute, not forever
    assert elapsed < 60, elapsed
    assert read_table(tmp_path / "b", "file_ledger") == []
    assert not [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
