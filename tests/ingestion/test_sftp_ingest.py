"""End to end over a real OpenSSH sshd: plan + process, ledger semantics, failures."""
from __future__ import annotations

import base64
import os
import shutil
import time
import uuid

import pytest

from adapters.registry import adapter_for
from deflect.core.canonical import LedgerSnapshot
from devtools.ingest import ingest_source
from ingestion import plan_source, process_files
from tests.ingestion.helpers import (
    MEG_NAME,
    SECRET,
    TRACS_NAME,
    ledger_from_batches,
    make_config,
    meg_doc,
    put_meg,
    put_tracs,
    read_batch,
    read_table,
    tracs_doc,
)

pytestmark = pytest.mark.sshd
# paramiko's prefetch thread dies with the connection when the proxy cuts it; the download is
# retried (or the source fails) in the main thread, which is what these tests check
CUT_WARNING = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
FINAL = {"loaded", "quarantined", "duplicate"}


@pytest.fixture
def drop(sshd_server):
    """A fresh remote directory under the server's root and a source builder for it."""
    sub = f"d-{uuid.uuid4().hex[:8]}"
    path = sshd_server.root_dir / sub
    path.mkdir()
    yield sub, path
    shutil.rmtree(path, ignore_errors=True)


def _ingest(source, tmp_path, ledger=None, tag="1"):
    config = make_config(tmp_path, source)
    return ingest_source(source, config=config, ledger=ledger or LedgerSnapshot(),
                         run_id=f"run{tag}", batch_dir=tmp_path / "work" / f"b{tag}",
                         secret=SECRET)


def _statuses(batch_dir):
    return {(r["remote_name"], r["status"]) for r in read_table(batch_dir, "file_ledger")}


def test_reconciliation_every_complete_file_once_second_run_fetches_nothing(
        sshd_server, drop, tmp_path):
    sub, path = drop
    t = tracs_doc()
    names = {f"TRACS_IL0849800_20261125T01300{i}_000{i}.xml": t.replace(
        "20261125T013004", f"20261125T01300{i}") for i in range(1, 4)}
    files = list(names)
    put_tracs(path, files[0], t)                                     # loaded
    put_tracs(path, files[1], t)                                     # byte-identical: duplicate
    put_tracs(path, files[2], t.replace("<TraCSExport ", "<Other "))  # F01 (quarantined)
    put_tracs(path, "TRACS_IL0849800_20261125T013004_0009.xml", t, sidecar=False)  # pending
    (path / "TRACS_IL0849800_20261125T013004_0010.xml.part").write_text("partial")
    put_tracs(path, "TRACS_IL0849800_20261125T013004_0011.xml",
              t.replace('formNumber="FR-26-0001235"', 'formNumber="FR-26-0001234"'))  # B04
    source = sshd_server.source("tracs-isp", "tracs", sub)

    r1 = _ingest(source, tmp_path, tag="1")
    assert r1.status == "ok", r1.error
    complete = {n for n in os.listdir(path) if n.endswith(".xml") and (path / (n + ".sha256")).exists()}
    ledger_rows = read_table(r1.batch.batch_dir, "file_ledger")
    handled = [r for r in ledger_rows if r["status"] in FINAL]
    assert sorted(r["remote_name"] for r in handled) == sorted(complete)  # none lost, none twice
    assert {r["remote_name"] for r in ledger_rows if r["status"] == "pending"} == {
        "TRACS_IL0849800_20261125T013004_0009.xml"}
    by_name = {r["remote_name"]: r for r in handled}
    assert by_name[files[1]]["status"] == "duplicate" and by_name[files[1]]["duplicate_of"] == files[0]
    assert by_name[files[2]]["status"] == "quarantined"
    batch = read_batch(r1.batch.batch_dir)
    assert (batch["files_loaded"], batch["files_duplicate"], batch["files_quarantined"],
            batch["files_pending"]) == (2, 1, 1, 1)
    # landing: owner-only, names with the digest, nothing partial
    landing = tmp_path / "landing"
    for p in landing.rglob("*"):
        assert oct(p.stat().st_mode & 0o777) in ("0o700", "0o600")
        assert not p.name.startswith(".part")

    r2 = _ingest(source, tmp_path, ledger=ledger_from_batches(r1.batch.batch_dir), tag="2")
    assert r2.status == "ok"
    assert r2.plan.to_fetch == [] and len(r2.plan.unchanged) == len(complete)
    assert {r["status"] for r in read_table(r2.batch.batch_dir, "file_ledger")} == {"pending"}


def test_pending_file_is_picked_up_once_its_sidecar_arrives(sshd_server, drop, tmp_path):
    sub, path = drop
    put_tracs(path, TRACS_NAME, tracs_doc(), sidecar=False)
    source = sshd_server.source("tracs-isp", "tracs", sub)
    r1 = _ingest(source, tmp_path, tag="1")
    assert _statuses(r1.batch.batch_dir) == {(TRACS_NAME, "pending")}
    assert not (tmp_path / "landing" / "tracs-isp").exists()  # nothing downloaded
    put_tracs(path, TRACS_NAME, tracs_doc())
    r2 = _ingest(source, tmp_path, ledger=ledger_from_batches(r1.batch.batch_dir), tag="2")
    assert _statuses(r2.batch.batch_dir) == {(TRACS_NAME, "loaded")}


def test_meg_resend_under_the_same_name_is_fetched_again(sshd_server, drop, tmp_path):
    sub, path = drop
    put_meg(path, MEG_NAME, meg_doc(), mtime=int(time.time()) - 100)
    source = sshd_server.source("meg-sieg", "meg", sub, unit="SIEG")
    r1 = _ingest(source, tmp_path, tag="1")
    (row1,) = read_table(r1.batch.batch_dir, "file_ledger")
    assert row1["status"] == "loaded"
    # a correction: the marker is deleted, the file rewritten, a new marker written
    (path / (MEG_NAME + ".done")).unlink()
    corrected = meg_doc().replace(b'LastModified="2027-01-18T09:00:00"',
                                  b'LastModified="2027-01-20T08:00:00"')
    put_meg(path, MEG_NAME, corrected, done=False)
    ledger = ledger_from_batches(r1.batch.batch_dir)
    r_mid = _ingest(source, tmp_path, ledger=ledger, tag="mid")
    assert r_mid.plan.to_fetch == [] and len(r_mid.plan.pending) == 1  # no marker yet
    put_meg(path, MEG_NAME, corrected)
    r2 = _ingest(source, tmp_path, ledger=ledger, tag="2")
    (row2,) = read_table(r2.batch.batch_dir, "file_ledger")
    assert row2["status"] == "loaded" and row2["sha256"] != row1["sha256"]
    cases = read_table(r2.batch.batch_dir, "stg_meg__case")
    assert [c["last_modified"] for c in cases] == ["2027-01-19T16:02:11", "2027-01-20T08:00:00"]


def test_checksum_mismatch_is_quarantined_then_retried(sshd_server, drop, tmp_path):
    sub, path = drop
    good = tracs_doc().encode()
    put_tracs(path, TRACS_NAME, good)
    # what a corrupt transfer delivers: the same length, one byte different from the sidecar's
    corrupt = good.replace(b"TROOP 13", b"TROOP 14")
    (path / TRACS_NAME).write_bytes(corrupt)
    source = sshd_server.source("tracs-isp", "tracs", sub)
    r1 = _ingest(source, tmp_path, tag="1")
    assert _statuses(r1.batch.batch_dir) == {(TRACS_NAME, "quarantined")}
    assert [f["code"] for f in read_table(r1.batch.batch_dir, "finding")] == ["F04"]
    ledger = ledger_from_batches(r1.batch.batch_dir)
    # still corrupt: the transfer is retried (fetched again), and the same outcome as before
    # counts in no column and writes nothing (reporting contract: handled before, unchanged)
    r2 = _ingest(source, tmp_path, ledger=ledger, tag="2")
    assert [f.name for f in r2.plan.to_fetch] == [TRACS_NAME]
    assert read_table(r2.batch.batch_dir, "quarantine") == []
    assert read_table(r2.batch.batch_dir, "file_ledger") == []
    assert r2.batch.counts["files_quarantined"] == 0 and r2.batch.counts["files_loaded"] == 0
    (path / TRACS_NAME).write_bytes(good)  # the next transfer is sound
    r3 = _ingest(source, tmp_path, ledger=ledger, tag="3")
    assert _statuses(r3.batch.batch_dir) == {(TRACS_NAME, "loaded")}
    # and once loaded it is final
    r4 = _ingest(source, tmp_path, ledger=ledger_from_batches(r1.batch.batch_dir,
                                                              r3.batch.batch_dir), tag="4")
    assert r4.plan.to_fetch == []


def test_wrong_host_key_fetches_nothing_and_says_which_key(sshd_server, drop, tmp_path):
    sub, path = drop
    put_tracs(path, TRACS_NAME, tracs_doc())
    good = sshd_server.source("tracs-isp", "tracs", sub)
    plan = plan_source(good, adapter_for("tracs"), LedgerSnapshot())
    bad = sshd_server.source("tracs-isp", "tracs", sub, host_key=sshd_server.other_host_key_line)
    config = make_config(tmp_path, bad)
    result = process_files(bad, plan.to_fetch, adapter=adapter_for("tracs"), config=config, ledger=LedgerSnapshot(),
                           run_id="r", batch_id="b", batch_dir=tmp_path / "b", secret=SECRET)
    assert result.status == "failed"
    assert f"127.0.0.1:{sshd_server.port}" in result.error and "SHA256:" in result.error
    assert read_batch(tmp_path / "b")["status"] == "failed"
    assert read_table(tmp_path / "b", "file_ledger") == []
    assert not any(p.is_file() for p in (tmp_path / "landing").rglob("*"))
    # ingest_source: planning fails the same way
    r = _ingest(bad, tmp_path, tag="x")
    assert r.status == "failed" and "SHA256:" in r.error


@CUT_WARNING
def test_connection_cut_mid_download_is_retried(sshd_server, drop, tmp_path, cutting_proxy,
                                                 monkeypatch):
    monkeypatch.setattr("ingestion.transport.time.sleep", lambda s: None)
    sub, path = drop
    big = tracs_doc().replace("JVBERi0xLjcKJeLjz9MK", base64.b64encode(os.urandom(1_500_000)).decode())
    put_tracs(path, TRACS_NAME, big)
    proxy = cutting_proxy(cut_after=900_000, cuts=1)
    source = sshd_server.source("tracs-isp", "tracs", sub, port=proxy.port)
    r = _ingest(source, tmp_path)
    assert r.status == "ok" and proxy.cut_done == 1
    assert _statuses(r.batch.batch_dir) == {(TRACS_NAME, "loaded")}
    assert not [p for p in (tmp_path / "landing").rglob(".part-*")]


@CUT_WARNING
def test_connection_cut_every_time_fails_the_source_cleanly(sshd_server, drop, tmp_path,
                                                            cutting_proxy, monkeypatch):
    monkeypatch.setattr("ingestion.transport.time.sleep", lambda s: None)
    sub, path = drop
    big = tracs_doc().replace("JVBERi0xLjcKJeLjz9MK", base64.b64encode(os.urandom(1_500_000)).decode())
    put_tracs(path, TRACS_NAME, big)
    plan = plan_source(sshd_server.source("tracs-isp", "tracs", sub), adapter_for("tracs"),
                       LedgerSnapshot())
    proxy = cutting_proxy(cut_after=900_000, cuts=1000)
    source = sshd_server.source("tracs-isp", "tracs", sub, port=proxy.port, retries=1)
    config = make_config(tmp_path, source)
    result = process_files(source, plan.to_fetch, adapter=adapter_for("tracs"), config=config, ledger=LedgerSnapshot(),
                           run_id="r", batch_id="b", batch_dir=tmp_path / "b", secret=SECRET)
    assert result.status == "failed" and "attempts" in result.error
    assert read_table(tmp_path / "b", "file_ledger") == []
    assert not any(p.is_file() for p in (tmp_path / "landing").rglob("*"))


def test_16_mb_attachment(sshd_server, drop, tmp_path):
    sub, path = drop
    payload = base64.encodebytes(os.urandom(12 * 1024 * 1024)).decode()  # 16 MB of Base64 text
    doc = tracs_doc().replace("JVBERi0xLjcKJeLjz9MK", payload)
    put_tracs(path, TRACS_NAME, doc)
    r = _ingest(sshd_server.source("tracs-isp", "tracs", sub), tmp_path)
    assert r.status == "ok"
    (row,) = read_table(r.batch.batch_dir, "file_ledger")
    assert row["status"] == "loaded" and row["records_loaded"] == "2" and int(row["size"]) > 16_000_000
    assert read_table(r.batch.batch_dir, "finding") == []
