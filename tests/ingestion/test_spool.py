"""A file's rows are held apart until the file is accepted: in memory while small, on disk
beyond the spool limit, and either way every row reaches the batch exactly once, or none."""
import csv

import pytest

from adapters.meg_reports.tables import TABLES as MEG_TABLES
from ingestion import batch as batch_mod
from ingestion.batch import BatchWriter

TRICKY = 'ünïcode, "quoted"\nand a new line'


def rows_of(batch_dir, table):
    with open(batch_dir / f"{table}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("spool_bytes", [1 << 20, 64])  # all in memory; spilled to disk at once
def test_committed_rows_reach_the_batch_discarded_ones_do_not(tmp_path, monkeypatch, spool_bytes):
    monkeypatch.setattr(batch_mod, "SPOOL_BYTES", spool_bytes)
    writer = BatchWriter(tmp_path / "b1", run_id="r1", source="meg-sieg",
                         quarantine_dir=tmp_path / "quarantine", tables=MEG_TABLES.tables)
    kept = writer.spool("kept.xml", "a" * 64)
    for i in range(500):
        kept.row("stg_meg__case", {"record_id": f"SIEG/K-{i}", "file_name": "kept.xml",
                                   "originating_ori": TRICKY})
    dropped = writer.spool("dropped.xml", "b" * 64)
    dropped.row("stg_meg__case", {"record_id": "SIEG/D-1", "file_name": "dropped.xml"})
    kept.commit()
    dropped.discard()
    out = writer.finish({"batch_id": "b1", "run_id": "r1", "source": "meg-sieg", "kind": "meg"})

    rows = rows_of(out, "stg_meg__case")
    assert [r["record_id"] for r in rows] == [f"SIEG/K-{i}" for i in range(500)]
    assert {r["originating_ori"] for r in rows} == {TRICKY}
    assert writer.rows_written["stg_meg__case"] == 500
    assert not list(out.rglob(".spool"))
