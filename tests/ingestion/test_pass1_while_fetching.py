"""Pass 1 over a download's bytes as they arrive (RecordIds fed in chunks) gives what pass 1 over
the landed file gives, whatever the chunks; anything that stops it early leaves the landed file's
own pass 1 to find and report it, as before."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.meg_reports import MegAdapter
from adapters.tracs import TracsAdapter
from ingestion import document, xmlsafe
from ingestion.document import RecordIds, count_record_ids
from ingestion.findings import Finding
from ingestion.process import _Pass1WhileFetching
from tests.ingestion.helpers import (
    TRACS_NAME,
    local_source,
    make_config,
    meg_doc,
    put_tracs,
    read_table,
    tracs_doc,
)

CHUNKS = (1, 7, 100, 4096, 10**9)
CONFIG = make_config(Path("/nonexistent"))  # only its per-file limits are read


def _fed(adapter, data: bytes, size: int):
    ids = RecordIds(adapter)
    for i in range(0, len(data), size):
        ids.feed(data[i:i + size])
    return ids.close()


def _outcome(call):
    """(counts, root's tag, attributes and line) or the finding pass 1 raised."""
    try:
        counts, root = call()
    except xmlsafe.FileRejected as rej:
        return rej.finding
    return dict(counts), root.tag, dict(root.attrib), root.sourceline, len(root)


DUPLICATE = tracs_doc().replace('formNumber="FR-26-0001235"', 'formNumber="FR-26-0001234"')
# directly under the root, not in a Contact: not counted
OUT_OF_PLACE = tracs_doc().replace("</TraCSExport>", '<FieldReport formNumber="FR-X" formVersion="1"'
                                   ' status="Accepted" lastModified="2026-11-24T22:14:03-06:00"/>'
                                   "</TraCSExport>", 1)
DOCS = {
    "tracs": (TracsAdapter(), tracs_doc().encode()),
    "meg": (MegAdapter(), meg_doc()),
    "duplicate ids": (TracsAdapter(), DUPLICATE.encode()),
    "record out of place": (TracsAdapter(), OUT_OF_PLACE.encode()),
    "truncated": (TracsAdapter(), tracs_doc().encode()[:-300]),
    "mismatched tag": (TracsAdapter(), tracs_doc().replace(
        "</summaryUnit>", "</summaryUnitX>", 1).encode()),
    "doctype": (TracsAdapter(), tracs_doc().replace(
        "?>\n", '?>\n<!DOCTYPE TraCSExport [<!ENTITY a "aaaaaaaaaa">]>\n', 1).encode()),
    "windows-1252": (TracsAdapter(), tracs_doc().replace(
        'encoding="UTF-8"', 'encoding="windows-1252"').encode()),
    "no root": (TracsAdapter(), b'<?xml version="1.0"?>\n<!-- nothing -->\n'),
    "empty": (TracsAdapter(), b""),
    # no root element within the bytes scanned for the prolog: F01, however they arrive
    "long prolog": (TracsAdapter(), tracs_doc().replace(
        "?>\n", "?>\n<!--" + "x" * xmlsafe.PROLOG_LIMIT + '-->\n<!DOCTYPE TraCSExport [<!ENTITY a "b">]>\n',
        1).encode()),
}


@pytest.mark.parametrize("name", DOCS)
def test_fed_in_any_chunks_equals_pass1_over_the_landed_file(tmp_path, name):
    adapter, data = DOCS[name]
    path = tmp_path / "f.xml"
    path.write_bytes(data)
    expected = _outcome(lambda: count_record_ids(path, adapter, 10**9))
    # (chunks of a few bytes re-scan a megabyte of prolog each time: larger ones for that one)
    for size in CHUNKS if len(data) < 100_000 else CHUNKS[-2:]:
        assert _outcome(lambda size=size: _fed(adapter, data, size)) == expected, (name, size)
    if name in ("tracs", "meg", "duplicate ids", "record out of place"):
        assert not isinstance(expected, Finding) and expected[0]
    if name == "duplicate ids":
        assert expected[0] == {"FR-26-0001234": 2}
    if name == "record out of place":
        assert "FR-X" not in expected[0]
    if name in ("truncated", "mismatched tag", "windows-1252", "no root", "empty"):
        assert expected.code == "F01"
    if name == "doctype":
        assert expected.code == "F06"
    if name == "long prolog":
        assert expected.code == "F01"


def test_a_syntax_error_comes_after_the_events_before_it(tmp_path):
    # what precedes the error is still seen first (pass 2 finds a structural F08 there first)
    path = tmp_path / "f.xml"
    path.write_bytes(b'<?xml version="1.0"?>\n<r><a/><b/>\n<c></d></r>\n')
    seen = []
    with pytest.raises(xmlsafe.FileRejected) as rejected:
        for _, el in xmlsafe.iterparse(path, 10**6, events=("end",)):
            seen.append(el.tag)
    assert seen == ["a", "b"] and rejected.value.finding.code == "F01"
    assert rejected.value.finding.line == 3


def test_a_retried_download_starts_pass1_again():
    early = _Pass1WhileFetching(TracsAdapter(), CONFIG)
    data = tracs_doc().encode()
    feed = early.restart()
    feed(data[:500])  # the first attempt broke off here
    feed = early.restart()
    for i in range(0, len(data), 64):
        feed(data[i:i + 64])
    counts, root = early.result()
    assert dict(counts) == {"FR-26-0001234": 1, "FR-26-0001235": 1}
    assert root.tag.endswith("TraCSExport") and early.result() is None


def test_what_stops_it_early_is_dropped_not_reported():
    early = _Pass1WhileFetching(TracsAdapter(), CONFIG)
    feed = early.restart()
    feed(tracs_doc().encode()[:-300])
    assert early.result() is None  # truncated: the landed file's pass 1 will say F01
    feed = early.restart()
    feed(b"\x00\x01 not xml")
    feed(tracs_doc().encode())
    assert early.result() is None


@pytest.fixture
def pass1_reads(monkeypatch):
    """How many times pass 1 read a landed file."""
    calls = []
    real = document.count_record_ids

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(document, "count_record_ids", counting)
    return calls


def test_a_download_is_parsed_once_fewer_times(tmp_path, run_files, pass1_reads):
    src = local_source(tmp_path / "drop")
    put_tracs(tmp_path / "drop", TRACS_NAME, tracs_doc())
    _, result = run_files(src)
    assert result.files[0].status == "loaded" and result.files[0].records_loaded == 2
    assert pass1_reads == []
    forms = read_table(result.batch_dir, "stg_tracs__field_report")
    assert [f["record_id"] for f in forms] == ["FR-26-0001234", "FR-26-0001235"]


def test_gzip_and_bad_files_are_read_by_pass1_after_landing(tmp_path, run_files, pass1_reads):
    src = local_source(tmp_path / "drop")
    put_tracs(tmp_path / "drop", TRACS_NAME, tracs_doc(), gz=True)
    _, result = run_files(src)
    assert result.files[0].status == "loaded" and len(pass1_reads) == 1
    src = local_source(tmp_path / "drop2")
    put_tracs(tmp_path / "drop2", TRACS_NAME, tracs_doc()[:-300])
    _, result = run_files(src)
    assert result.files[0].status == "quarantined" and result.files[0].codes == ["F01"]
    assert len(pass1_reads) == 2
