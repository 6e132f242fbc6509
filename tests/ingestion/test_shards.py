"""A large file checked on several cores gives the batch exactly what one process gives.

Generated drops with a high defect rate (so record quarantine, duplicates in a file and
file-level findings all occur), every file sharded (the size threshold set to 0), compared row
for row with the unsharded run; a shard that dies makes the file run again in one process.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path

import pytest

from adapters.registry import staging_columns
from deflect.configuration import load_config
from deflect.core.canonical import BOOKKEEPING, LedgerSnapshot
from devtools.ingest import ingest_source
from ingestion import batch as batch_module
from ingestion import process as process_module

ALL_TABLES = {**staging_columns(), **BOOKKEEPING}
from tests.ingestion.helpers import SECRET, make_config, read_table


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    from generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("shards") / "drop"
    generate(GeneratorConfig(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 3), seed=11,
                             forms_per_day=40, attachment_kb=1, defect_rate=0.3), out)
    return out


def _ingest(drop: Path, root: Path, shards: int) -> dict[str, dict]:
    """Every source of the drop through ingest_source; per source, its batch's rows."""
    sources = load_config(drop / "deflect.yaml").sources
    config = make_config(root, *sources).model_copy(update={"file_shards": shards})
    out = {}
    for s in sources:
        bdir = root / "work" / s.name
        r = ingest_source(s, config=config, ledger=LedgerSnapshot(), run_id="run-1",
                          batch_dir=bdir, secret=SECRET)
        assert r.status == "ok", (s.name, r.error)
        tables = {}
        for table in ALL_TABLES:
            if not (bdir / f"{table}.csv").exists():  # another kind's table
                tables[table] = Counter()
                continue
            rows = [{k: (v or "").replace(str(root), "<root>") for k, v in row.items()
                     if k != "handled_at"} for row in read_table(bdir, table)]
            tables[table] = Counter(tuple(sorted(row.items())) for row in rows)
        out[s.name] = {"tables": tables, "counts": r.batch.counts}
    return out


@pytest.fixture
def shard_everything(monkeypatch):
    monkeypatch.setattr(process_module, "SHARD_MIN_BYTES", 0)


def test_sharded_equals_one_process(drop, tmp_path, shard_everything, monkeypatch):
    one = _ingest(drop, tmp_path / "one", shards=1)
    sharded = []
    real = process_module.run_sharded

    def spy(proc, n):
        sharded.append((proc.ctx.file_name, n))
        return real(proc, n)

    monkeypatch.setattr(process_module, "run_sharded", spy)
    three = _ingest(drop, tmp_path / "three", shards=3)
    assert one == three
    assert len(sharded) > 10 and {n for _, n in sharded} == {3}
    # the drop exercised what sharding must carry over
    rows = {t: sum(sum(s["tables"][t].values()) for s in one.values()) for t in ALL_TABLES}
    assert rows["quarantine"] and rows["finding"] and rows["stg_tracs__field_report"]
    codes = Counter(dict(r)["code"] for s in one.values() for r in s["tables"]["finding"])
    assert codes["B04"] and any(c.startswith("F") for c in codes)
    # raw XML of every quarantined record is kept, sharded or not
    qdir = tmp_path / "three" / "landing" / "quarantine"
    assert {p.name for p in qdir.iterdir()} == {
        p.name for p in (tmp_path / "one" / "landing" / "quarantine").iterdir()}


def test_a_shard_that_dies_reruns_the_file_in_one_process(drop, tmp_path, shard_everything,
                                                          monkeypatch, caplog):
    def broken_dump(self, out):
        raise OSError("disk full")

    # fork: the children see the patch; only they hand over through dump()
    monkeypatch.setattr(batch_module.FileSpool, "dump", broken_dump)
    caplog.set_level(logging.WARNING, logger="ingestion.process")
    one = _ingest(drop, tmp_path / "one", shards=1)
    failed = _ingest(drop, tmp_path / "failed", shards=2)
    assert one == failed
    assert any("did not finish; checking it again in one process" in r.getMessage()
               for r in caplog.records)
