"""A small file is parsed once: pass 1 keeps the tree it built while the file downloaded, and
pass 2 replays pass 1's events over it instead of parsing the landed file again. Whatever it
finds, it gives the batch exactly what two parses give.

Generated drops with a high defect rate (record quarantine, duplicates in a file, file-level
findings, gzip files), compared row for row with every file parsed twice."""
from __future__ import annotations

import datetime as dt
import gzip
from collections import Counter

import pytest

from adapters.tracs import TracsAdapter
from ingestion import document, xmlsafe
from ingestion import process as process_module
from ingestion.document import RecordIds
from tests.ingestion.helpers import TRACS_NAME, local_source, put_tracs, tracs_doc
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
    """How many times each landed file was parsed (by pass 1 or pass 2), by landed name."""
    names = Counter()
    real = xmlsafe.iterparse

    def spy(path, *args, **kwargs):
        names[path.name] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(xmlsafe, "iterparse", spy)
    return names


@pytest.mark.parametrize("shards", [1, 2])
def test_one_parse_equals_two(drop, tmp_path, monkeypatch, landed_parses, shards):
    if shards > 1:  # every file in shards, each replaying the kept tree from its own copy
        monkeypatch.setattr(process_module, "SHARD_MIN_BYTES", 0)
    default = document.KEEP_TREE_MAX_BYTES
    monkeypatch.setattr(document, "KEEP_TREE_MAX_BYTES", -1)
    two = _ingest(drop, tmp_path / "two", shards=shards)
    parsed_twice = Counter(landed_parses)
    landed_parses.clear()
    monkeypatch.setattr(document, "KEEP_TREE_MAX_BYTES", default)  # every file here is smaller
    one = _ingest(drop, tmp_path / "one", shards=shards)
    assert one == two
    # parsed twice before (gzip: pass 1 and pass 2 read the landed file); now at most once, by
    # the pass 1 that could not read the download as it arrived (gzip, a broken download)
    assert sum(parsed_twice.values()) > 30 and max(parsed_twice.values()) == 2
    assert landed_parses and max(landed_parses.values()) == 1
    assert {n for n, k in parsed_twice.items() if k == 2} <= set(landed_parses)
    assert sum(landed_parses.values()) < sum(parsed_twice.values()) / 2
    # the drop exercised what the replay must carry over
    codes = {dict(r)["code"] for s in one.values() for r in s["tables"]["finding"]}
    assert {"B04", "S01"} <= codes and any(c.startswith("F") for c in codes)


def _size(path) -> int:
    """A data file's size as pass 1 judges it: a gzip file's once decompressed."""
    if path.name.endswith(".gz"):
        try:
            return len(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError):
            return 0  # broken (F07): never parsed
    return path.stat().st_size


def test_a_file_over_the_limit_is_parsed_again(drop, tmp_path, monkeypatch, landed_parses):
    # a limit between the drop's file sizes: the larger files are parsed twice, the others once
    files = [p for p in drop.rglob("*") if p.name.endswith((".xml", ".xml.gz"))]
    sizes = sorted(_size(p) for p in files)
    limit = sizes[len(sizes) // 2]
    monkeypatch.setattr(document, "KEEP_TREE_MAX_BYTES", limit)
    _ingest(drop, tmp_path / "half", shards=1)
    over = {p.name for p in files if _size(p) > limit}
    # the landed name ends .<sha12>; a file under the limit is parsed (once) only when its
    # download could not be read as it arrived, and then kept
    parsed = {n.rsplit(".", 1)[0]: k for n, k in landed_parses.items()}
    twice = {n for n, k in parsed.items() if k == 2}
    assert twice and twice <= over


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


def _flooded(n: int) -> str:
    """A valid export whose OtherForm holds `n` empty elements (its content is free): a small
    file whose tree is many times its size."""
    return tracs_doc().replace('<anything xmlns="urn:example:citation">ignored</anything>',
                               '<a xmlns="urn:example:citation">' + "<b/>" * n + "</a>")


def test_pass1_stops_keeping_a_tree_that_grows_too_much(monkeypatch):
    # the process's resident memory as the check reads it: 1 MB more at every look
    looks = iter(range(10**6))
    monkeypatch.setattr(xmlsafe, "resident_bytes", lambda: next(looks) * 2**20)
    monkeypatch.setattr(document, "KEEP_TREE_MAX_GROWTH", 3 * 2**20)
    data = _flooded(20_000).encode()

    def fed(keep: bool):
        ids = RecordIds(TracsAdapter(), keep=keep)
        for i in range(0, len(data), 4096):
            ids.feed(data[i:i + 4096])
        counts, root = ids.close()
        return ids, (dict(counts), root.tag, dict(root.attrib), len(root))

    kept, outcome = fed(True)
    assert kept.events is None  # gave up after a few chunks: pass 2 will parse the file
    assert outcome == fed(False)[1] and outcome[0] == {"FR-26-0001234": 1, "FR-26-0001235": 1}
    monkeypatch.undo()  # a real look at the memory: an ordinary tree stays kept
    small = RecordIds(TracsAdapter(), keep=True)
    small.feed(tracs_doc().encode())
    small.close()
    assert small.events


@pytest.mark.parametrize("gz", [False, True], ids=["while downloading", "landed gzip"])
def test_a_file_whose_tree_grows_too_much_is_parsed_again(tmp_path, run_files, monkeypatch,
                                                          landed_parses, gz):
    # the first look at the memory finds too much (how a flood's growth is seen: the test above)
    monkeypatch.setattr(document, "KEEP_TREE_MAX_GROWTH", -(2**40))
    replays = []
    real = document._drain
    monkeypatch.setattr(document, "_drain", lambda events: replays.append(1) or real(events))
    src = local_source(tmp_path / "drop")
    put_tracs(tmp_path / "drop", TRACS_NAME, _flooded(300_000), gz=gz)
    _, result = run_files(src)
    (out,) = result.files
    assert out.status == "loaded" and out.records_loaded == 2, (out.status, out.codes)
    assert replays == []  # pass 2 parsed the landed file
    assert sum(landed_parses.values()) == (2 if gz else 1)
    # an ordinary file, under the ceiling, is replayed
    monkeypatch.setattr(document, "KEEP_TREE_MAX_GROWTH", 2**40)
    src = local_source(tmp_path / "drop2")
    put_tracs(tmp_path / "drop2", TRACS_NAME, tracs_doc(), gz=gz)
    run_files(src)
    assert replays == [1]
