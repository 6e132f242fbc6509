"""A small file is parsed once: pass 1 keeps the tree it built while the file downloaded, and
pass 2 replays pass 1's events over it instead of parsing the landed file again. Whatever it
finds, it gives the batch exactly what two parses give.

Generated drops with a high defect rate (record quarantine, duplicates in a file, file-level
findings, gzip files), compared row for row with every file parsed twice."""
from __future__ import annotations

import datetime as dt

import pytest

from adapters.tracs import TracsAdapter
from ingestion import document, xmlsafe
from ingestion import process as process_module
from ingestion.document import RecordIds
from tests.ingestion.helpers import tracs_doc
from tests.ingestion.test_pass1_while_fetching import DOCS
from tests.ingestion.test_shards import _ingest


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    from generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("one-parse") / "drop"
    generate(GeneratorConfig(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 3), seed=13,
                             forms_per_day=40, attachment_kb=1, defect_rate=0.3, gzip_share=0.5),
             out)
    return out


@pytest.fixture
def landed_parses(monkeypatch):
    """The names of the landed files pass 2 parsed (it replayed the others)."""
    names = []
    real = xmlsafe.iterparse

    def spy(path, *args, **kwargs):
        if kwargs.get("events") == document.PASS2_EVENTS:
            names.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(xmlsafe, "iterparse", spy)
    return names


def test_one_parse_equals_two(drop, tmp_path, monkeypatch, landed_parses):
    monkeypatch.setattr(process_module, "KEEP_TREE_MAX_BYTES", -1)
    two = _ingest(drop, tmp_path / "two", shards=1)
    parsed_twice = list(landed_parses)
    landed_parses.clear()
    # the limit back to its default: every file of this drop is kept
    monkeypatch.setattr(process_module, "KEEP_TREE_MAX_BYTES", document.KEEP_TREE_MAX_BYTES)
    one = _ingest(drop, tmp_path / "one", shards=1)
    assert one == two
    # with the tree kept, pass 2 parsed only what pass 1 could not read as it arrived (gzip)
    assert len(parsed_twice) > 30
    assert landed_parses and all(".xml.gz." in n for n in landed_parses), landed_parses
    assert len(landed_parses) < len(parsed_twice) / 3
    # the drop exercised what the replay must carry over
    codes = {dict(r)["code"] for s in one.values() for r in s["tables"]["finding"]}
    assert {"B04", "S01"} <= codes and any(c.startswith("F") for c in codes)


def test_a_file_over_the_limit_is_parsed_again(drop, tmp_path, monkeypatch, landed_parses):
    # a limit between the drop's file sizes: the larger files are parsed twice, the others once
    sizes = sorted(p.stat().st_size for p in drop.rglob("*.xml"))
    limit = sizes[len(sizes) // 2]
    monkeypatch.setattr(process_module, "KEEP_TREE_MAX_BYTES", limit)
    _ingest(drop, tmp_path / "half", shards=1)
    over = {p.name for p in drop.rglob("*.xml") if p.stat().st_size > limit}
    parsed = {n.split(".xml.")[0] + ".xml" for n in landed_parses if ".gz." not in n}
    assert parsed and parsed <= over


@pytest.mark.parametrize("name", DOCS)
def test_pass1_keeping_the_tree_counts_what_it_counts_otherwise(name):
    adapter, data = DOCS[name]

    def outcome(keep: bool):
        ids = RecordIds(adapter, keep=keep)
        try:
            for i in range(0, len(data), 4096):
                ids.feed(data[i:i + 4096])
            counts, root = ids.close()
        except xmlsafe.FileRejected as rej:
            return rej.finding
        return dict(counts), root.tag, dict(root.attrib), root.sourceline, len(root)

    assert outcome(True) == outcome(False)


def test_the_kept_tree_is_let_go_as_pass2_reads_it():
    ids = RecordIds(TracsAdapter(), keep=True)
    ids.feed(tracs_doc().encode())
    ids.close()
    events = ids.events
    n = len(events)
    assert [e for e, _ in events].count("end") >= 4  # two records, their Contact, the root
    replay = document._drain(events)
    first = next(replay)
    assert first[0] in ("start", "start-ns") and len(events) == n - 1
    assert len(list(replay)) == n - 1 and events == []
