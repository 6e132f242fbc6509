"""A file's rows are held apart until the file is accepted: in memory while small, on disk
beyond the spool limit, and either way every row reaches the batch exactly once, or none."""
import csv
import datetime as dt

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
    # past the limit the rows are on disk, not in memory
    assert kept._files["stg_meg__case"].rolled == (spool_bytes == 64)
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


def test_rows_are_written_as_the_cell_conversion_says(tmp_path):
    """The shortcut for rows without a bool writes the same bytes as converting every cell."""
    import csv
    import io

    from ingestion.batch import _csv_row, _csv_value

    cols = ["a", "b", "c", "d", "e"]
    rows = [{}, {"a": None, "b": "x", "c": 1, "d": 0, "e": 2.5},
            {"a": True, "b": False, "c": 1, "d": 0}, {"a": "true", "b": "", "c": "0"},
            {"b": False}, {"e": True, "x": "not a column"}, {"a": "line\nbreak", "c": -1},
            {"a": dt.date(2026, 1, 2), "b": "é,\"q\""}]

    def written(make) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        for r in rows:
            w.writerow(make(r))
        return out.getvalue()

    assert written(lambda r: _csv_row(r, cols)) == \
        written(lambda r: [_csv_value(r.get(c)) for c in cols])
    assert "true,false,1,0," in written(lambda r: _csv_row(r, cols))
