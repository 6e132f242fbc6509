"""Against generator output served by the real sshd: reconciliation with the manifest.

Every complete remote data file ends in the ledger exactly once as loaded, quarantined or
duplicate (none lost, none twice), with the manifest's digest; every file-level code and every
record defect the manifest planted is found, and nothing else; a second run fetches nothing but the corrupt transfers (F04); no
generated name or birth date reaches a batch.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from deflect.configuration import load_config
from deflect.core.canonical import LedgerSnapshot
from devtools.ingest import ingest_source
from tests.ingestion.helpers import SECRET, ledger_from_batches, make_config, read_table

pytestmark = pytest.mark.sshd
FINAL = {"loaded", "quarantined", "duplicate"}


@pytest.fixture(scope="module")
def generated(sshd_server):
    from generator import GeneratorConfig, generate

    out = sshd_server.root_dir / "generated"
    if not out.exists():
        generate(GeneratorConfig(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 6), seed=7,
                                 forms_per_day=20, attachment_kb=2, defect_rate=0.25), out)
    return out


def _sources(sshd_server, drop: Path):
    """The drop's own configuration, with every file: source served over SFTP instead."""
    config = load_config(drop / "deflect.yaml")
    out = []
    for s in config.sources:
        sub = Path(s.path).relative_to(sshd_server.root_dir)
        out.append(sshd_server.source(s.name, s.kind, str(sub), unit=s.unit))
    return out


def _run_all(sources, tmp_path, ledgers, tag):
    results = {}
    for s in sources:
        config = make_config(tmp_path, *sources)
        r = ingest_source(s, config=config, ledger=ledgers.get(s.name) or LedgerSnapshot(),
                          run_id=f"run{tag}", batch_dir=tmp_path / "work" / tag / s.name,
                          secret=SECRET)
        assert r.status == "ok", (s.name, r.error)
        results[s.name] = r
    return results


def test_generated_drop_reconciles_with_the_manifest(sshd_server, generated, tmp_path,
                                                     monkeypatch):
    monkeypatch.setenv("DEFLECT_PERSON_KEY", SECRET.decode())
    manifest = json.loads((generated / "manifest.json").read_text())
    sources = _sources(sshd_server, generated)
    run1 = _run_all(sources, tmp_path, {}, "1")

    ledger_rows = [row for r in run1.values() for row in read_table(r.batch.batch_dir, "file_ledger")]
    handled = Counter((row["source"], row["remote_name"]) for row in ledger_rows
                      if row["status"] in FINAL)
    drop_files = [f for f in manifest["files"] if not f.get("superseded")]
    complete = {(f["source"], Path(f["path"]).name): f for f in drop_files if f["complete"]}
    assert set(handled) == set(complete)                 # none lost
    assert set(handled.values()) == {1}                  # none twice
    for row in ledger_rows:
        if row["status"] in FINAL:
            assert row["sha256"] == complete[(row["source"], row["remote_name"])]["sha256"]
    pending = {(f["source"], Path(f["path"]).name) for f in drop_files
               if not f["complete"] and f.get("pending") and f.get("state") != "part"}
    assert {(r["source"], r["remote_name"]) for r in ledger_rows if r["status"] == "pending"} <= pending

    # file-level codes: exactly the manifest's
    findings = [row for r in run1.values() for row in read_table(r.batch.batch_dir, "finding")]
    found_files = {(f["code"], f["file_name"]) for f in findings if f["level"] == "file"}
    # a byte-identical copy of a handled file is a duplicate and never parsed (a planted name
    # defect on an empty MEG file can make it identical to the previous night's file)
    duplicates = {row["remote_name"] for row in ledger_rows if row["status"] == "duplicate"}
    digests = {row["sha256"] for row in ledger_rows if row["status"] in ("loaded", "quarantined")}
    for row in ledger_rows:
        if row["status"] == "duplicate":
            assert row["sha256"] in digests
    expected_files = {(c, Path(f["path"]).name) for f in drop_files if f["complete"]
                      and Path(f["path"]).name not in duplicates for c in f.get("codes") or []}
    assert found_files == expected_files
    # record-level: every planted defect found, none invented
    found_records = {(f["code"], f["file_name"], f["record_id"]) for f in findings
                     if f["level"] == "record"}
    expected_records = {(d["code"], Path(d["path"]).name, d["record_id"])
                        for d in manifest["defects"] if d["level"] == "record"
                        and Path(d["path"]).name not in duplicates}
    assert found_records == expected_records

    # no generated name or birth date in any batch
    people = json.loads((generated / "people.json").read_text())
    words = set()
    for p in people if isinstance(people, list) else people.values():
        for key in ("last", "first", "birth_date", "Last", "First", "BirthDate"):
            v = p.get(key) if isinstance(p, dict) else None
            if v and len(v) >= 4:
                words.add(v)
    assert words
    for r in run1.values():
        for csv_file in r.batch.batch_dir.glob("*.csv"):
            text = csv_file.read_text(encoding="utf-8")
            leaked = [w for w in words if f",{w}," in text or f",{w}\n" in text]
            assert not leaked, (csv_file.name, leaked[:3])

    # second run over the same drop: nothing fetched but the corrupt transfers (F04), retried
    ledgers = {name: ledger_from_batches(r.batch.batch_dir) for name, r in run1.items()}
    run2 = _run_all(sources, tmp_path, ledgers, "2")
    f04 = {Path(f["path"]).name for f in drop_files if "F04" in (f.get("codes") or [])}
    refetched = {f.name for r in run2.values() for f in r.plan.to_fetch}
    assert refetched == f04
