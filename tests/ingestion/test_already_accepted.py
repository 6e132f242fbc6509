"""Records accepted before (same record id and record SHA-256) are counted, not checked again:
within a batch (an earlier file of it) and from what the warehouse staged (`accepted_before`).
A changed record, or one whose id occurs twice in its file (B04), is always checked.
tests/deflect/test_already_accepted.py shows the warehouse ends up the same on both backends."""
from __future__ import annotations

from adapters.registry import adapter_for
from deflect.core.canonical import LedgerSnapshot
from ingestion import plan_source, process_files
from ingestion.document import c14n, record_sha256
from tests.ingestion.helpers import (
    MEG_NAME,
    local_source,
    make_config,
    meg_doc,
    put_meg,
    read_batch,
    read_table,
)

SECRET = b"test-person-key-secret"
LATER = "CaseActivity_SIEG_20270121.xml"


def _later(doc: bytes, change_second: bool = True) -> bytes:
    """The next night's window: the first case unchanged, the second (optionally) modified."""
    doc = doc.replace(b'ExportDate="2027-01-20"', b'ExportDate="2027-01-21"')
    if change_second:
        doc = doc.replace(b'LastModified="2027-01-18T09:00:00"',
                          b'LastModified="2027-01-20T23:00:00"')
    return doc


def _process(tmp_path, source, accepted_before=None, n=1):
    config = make_config(tmp_path, source)
    plan = plan_source(source, adapter_for(source.kind), LedgerSnapshot(),
                       max_file_bytes=config.max_file_bytes)
    return process_files(source, plan.to_fetch, adapter=adapter_for(source.kind), config=config,
                         ledger=LedgerSnapshot(), run_id=f"run{n}", batch_id=f"b{n}",
                         batch_dir=tmp_path / "work" / f"b{n}", secret=SECRET,
                         accepted_before=accepted_before)


def _ledger(result) -> dict[str, tuple[int, int, int]]:
    return {r["remote_name"]: (int(r["records_loaded"]), int(r["records_quarantined"]),
                               int(r["records_already_accepted"]))
            for r in read_table(result.batch_dir, "file_ledger")}


def _case_shas(doc: bytes) -> dict[str, str]:
    from lxml import etree

    root = etree.fromstring(doc)
    return {f"SIEG/{c.get('CaseNumber')}": record_sha256(c14n(c))
            for c in root.iter("{urn:il:meg:rms:case-activity}Case")}


def test_an_unchanged_record_of_an_earlier_file_of_the_batch_is_counted_not_extracted(tmp_path):
    source = local_source(tmp_path / "drop", "meg")
    put_meg(tmp_path / "drop", MEG_NAME, meg_doc())
    put_meg(tmp_path / "drop", LATER, _later(meg_doc()))
    result = _process(tmp_path, source)
    # the first file: both cases; the second: the first case again (skipped), the second changed
    assert _ledger(result) == {MEG_NAME: (2, 0, 0), LATER: (1, 0, 1)}
    cases = read_table(result.batch_dir, "stg_meg__case")
    assert [(c["file_name"], c["record_id"], c["last_modified"]) for c in cases] == [
        (MEG_NAME, "SIEG/SIEG-2026-0412", "2027-01-19T16:02:11"),
        (MEG_NAME, "SIEG/SIEG-2026-0413", "2027-01-18T09:00:00"),
        (LATER, "SIEG/SIEG-2026-0413", "2027-01-20T23:00:00"),
    ]
    batch = read_batch(result.batch_dir)
    assert batch["records_extracted"] == 3 and batch["records_already_accepted"] == 1


def test_records_the_warehouse_staged_are_counted_a_changed_one_is_extracted(tmp_path):
    source = local_source(tmp_path / "drop", "meg")
    put_meg(tmp_path / "drop", LATER, _later(meg_doc()))
    staged = _case_shas(meg_doc())  # what an earlier night accepted: the unchanged versions
    asked = []

    def accepted_before(schema_version, record_ids):
        asked.append((schema_version, sorted(record_ids)))
        return {(rid, sha) for rid, sha in staged.items() if rid in record_ids}

    result = _process(tmp_path, source, accepted_before)
    assert asked == [("2.0", ["SIEG/SIEG-2026-0412", "SIEG/SIEG-2026-0413"])]
    assert _ledger(result) == {LATER: (1, 0, 1)}
    (case,) = read_table(result.batch_dir, "stg_meg__case")
    assert case["record_id"] == "SIEG/SIEG-2026-0413"  # new SHA-256: validated and extracted
    assert {r["record_id"] for r in read_table(result.batch_dir, "stg_meg__subject")} == {
        "SIEG/SIEG-2026-0413"}


def test_an_id_twice_in_its_file_is_checked_even_if_accepted_before(tmp_path):
    doc = meg_doc().replace(b'CaseNumber="SIEG-2026-0413"', b'CaseNumber="SIEG-2026-0412"')
    source = local_source(tmp_path / "drop", "meg")
    put_meg(tmp_path / "drop", MEG_NAME, doc)
    shas = set(_case_shas(meg_doc()).values()) | set(_case_shas(doc).values())
    asked = []

    def accepted_before(schema_version, record_ids):
        asked.append(list(record_ids))
        return {("SIEG/SIEG-2026-0412", sha) for sha in shas}

    result = _process(tmp_path, source, accepted_before)
    assert asked == []  # no id occurs once: nothing to ask
    assert _ledger(result) == {MEG_NAME: (0, 2, 0)}
    assert {r["code"] for r in read_table(result.batch_dir, "finding")} == {"B04"}
