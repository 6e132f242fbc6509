import datetime as dt

import pytest

from deflect.core.canonical import LedgerEntry
from tests.warehouse.helpers import SHA_A, SHA_B, STAGING, tracs_form, write_batch
from warehouse import ledger_snapshot, load_batch, record_load_run, record_load_runs


def test_load_run_aggregates_the_runs_batches(wh, tmp_path):
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1),
                               run_id="run-1", files_seen=4, files_loaded=1,
                               files_quarantined=1, records_quarantined=2))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", tracs_form("FR-26-0000002", 1),
                               run_id="run-1", files_seen=4, files_loaded=1))
    load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs", tracs_form("FR-26-0000003", 1),
                               run_id="run-0", files_loaded=1))
    row = record_load_run(wh, run_id="run-1", source="tracs-isp",
                          started_at="2026-11-01T03:00:00+00:00",
                          finished_at="2026-11-01T03:05:00+00:00", as_of=dt.date(2026, 11, 1),
                          status="ok", files_seen=4)
    assert row["files_loaded"] == 2 and row["records_loaded"] == 2
    assert row["files_quarantined"] == 1 and row["records_quarantined"] == 2
    got = wh.query("SELECT run_id, source, as_of, files_seen, files_loaded, records_loaded, "
                   "status FROM reporting.load_run")
    assert got == [("run-1", "tracs-isp", dt.date(2026, 11, 1), 4, 2, 2, "ok")]
    started = wh.scalar("SELECT started_at FROM reporting.load_run")
    assert started == dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
    # writing the run again replaces its row
    record_load_run(wh, run_id="run-1", source="tracs-isp", started_at=None, finished_at=None,
                    as_of=dt.date(2026, 11, 1), status="failed")
    assert wh.query("SELECT status FROM reporting.load_run") == [("failed",)]


def test_load_runs_of_many_sources_replace_only_theirs(wh, monkeypatch):
    from warehouse import runs

    monkeypatch.setattr(runs, "_ROWS_PER_STATEMENT", 2)  # parts of a bounded size too
    counts = dict(files_seen=1, files_loaded=1, files_pending=0, files_quarantined=0,
                  files_duplicate=0, records_loaded=3, records_quarantined=0)

    def row(source, status="ok", **more):
        return dict(source=source, started_at="2026-11-01T03:00:00+00:00", finished_at=None,
                    as_of=dt.date(2026, 11, 1), status=status, **{**counts, **more})

    record_load_run(wh, run_id="run-0", source="a", started_at=None, finished_at=None,
                    as_of=dt.date(2026, 10, 31), status="ok", **counts)
    record_load_runs(wh, "run-1", [row("a"), row("b"), row("c")])
    written = record_load_runs(wh, "run-1", [row("b", "failed", records_loaded=0), row("d")])
    assert [(r["source"], r["status"], r["records_loaded"]) for r in written] == [
        ("b", "failed", 0), ("d", "ok", 3)]
    got = wh.query("SELECT run_id, source, status, records_loaded FROM reporting.load_run "
                   "ORDER BY run_id, source")
    assert got == [("run-0", "a", "ok", 3), ("run-1", "a", "ok", 3), ("run-1", "b", "failed", 0),
                   ("run-1", "c", "ok", 3), ("run-1", "d", "ok", 3)]
    assert wh.scalar("SELECT started_at FROM reporting.load_run WHERE source = 'd'") == \
        dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
    assert record_load_runs(wh, "run-2", []) == []
    with pytest.raises(ValueError, match="status"):
        record_load_runs(wh, "run-2", [row("a", "maybe")])


def test_ledger_snapshot(wh, tmp_path):
    def row(name, sha, status, size=10):
        return dict(remote_name=name, size=size, mtime=1761300000, sha256=sha, status=status,
                    run_id="run-1", handled_at="2026-11-01T03:00:00+00:00")

    load_batch(wh, STAGING, write_batch(tmp_path, "m1", "meg", {"file_ledger": [
        row("CaseActivity_SIEG_20261024.xml", SHA_A, "loaded"),
        row("CaseActivity_SIEG_20261024.xml", SHA_B, "loaded", size=12),  # corrected re-send
        row("CaseActivity_SIEG_20261025.xml", None, "pending"),
    ]}))
    load_batch(wh, STAGING, write_batch(tmp_path, "x1", "meg", {"file_ledger": [
        row("CaseActivity_SIEG_20261024.xml", "c" * 64, "loaded")]}, source="meg-other"))
    snap = ledger_snapshot(wh, "meg-sieg")
    assert snap.digests == {SHA_A, SHA_B}
    assert sorted(e.sha256 for e in snap.by_name["CaseActivity_SIEG_20261024.xml"]) == [SHA_A, SHA_B]
    assert snap.by_name["CaseActivity_SIEG_20261025.xml"] == [
        LedgerEntry("CaseActivity_SIEG_20261025.xml", 10, 1761300000, None, "pending")]
    assert ledger_snapshot(wh, "nobody").by_name == {}


def test_read_only_connection_reads_the_ledger_and_refuses_writes(warehouse_url, tmp_path):
    from warehouse import connect, migrate
    from warehouse.backend import database_errors

    with connect(warehouse_url) as wh:
        migrate(wh)
        load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", {"file_ledger": [dict(
            remote_name="f.xml", size=1, mtime=2, sha256=SHA_A, status="loaded")]}))
    with connect(warehouse_url, read_only=True) as ro:
        assert ledger_snapshot(ro, "tracs-isp").digests == {SHA_A}
        with pytest.raises(database_errors()):
            ro.execute("DELETE FROM meta.file_ledger")
