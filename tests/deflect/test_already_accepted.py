"""A record already accepted (same source, record id and record SHA-256) is counted, not validated
and extracted again: cumulative MEG windows re-send each case every night.

Two nights of a generated drop (the first half of its days, then all of them) are run twice into
fresh warehouses of each backend: as installed, and with the recognition turned off. The
warehouses must be equal table by table (staging, quarantine, findings, reporting), the
recognition must have happened both within a night (files of one batch) and across nights (the
warehouse's staging), a changed record must have been taken in, and for every file the ledger's
counts must add up to the records in it. A third warehouse is loaded with every file in a batch
of its own (batches capped by bytes, pipeline.DEFAULT_BATCH_BYTES): a batch then knows nothing of
what the source's other batches accepted that night, and the warehouse must still be the same."""
from __future__ import annotations

import datetime as dt
import functools
import gzip
from pathlib import Path

import pytest
from lxml import etree

from deflect import pipeline
from deflect.configuration import load_config
from generator import GeneratorConfig, generate
from ingestion import process
from tests.deflect.nights import night_config, serve_until, table_rows
from warehouse import connect

pytestmark = pytest.mark.slow

DROP = GeneratorConfig(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 28), seed=18,
                       forms_per_day=10, attachment_kb=1, large_attachments=0, defect_rate=0.04,
                       deflection_share=0.25,
                       pending_at_end=False)
FIRST_NIGHT_LAST_DAY = "20260814"
MEG_UNITS = 3  # of the generator's units: enough for linking, few files
RECORD_TAGS = ("{urn:il:isp:tracs:export}FieldReport", "{urn:il:meg:rms:case-activity}Case")


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("drop")
    return out, generate(DROP, out)


def _two_nights(drop_dir: Path, work: Path, url: str) -> str:
    work.mkdir(parents=True)
    given = "duckdb:///warehouse.duckdb" if url.startswith("duckdb:") else url
    config = load_config(night_config(drop_dir, work, given, MEG_UNITS))
    for last_day, as_of in ((FIRST_NIGHT_LAST_DAY, dt.date(2026, 8, 15)),
                            (None, DROP.effective_as_of)):
        serve_until(drop_dir, work / "served", last_day)
        result = pipeline.run(config, as_of=as_of, publish=False, workers=2)
        assert not result["failed_sources"]
    return config.warehouse


# what names a run or a load (one load_seq per batch: the split run numbers more of them)
_SKIP = {"batch_id", "load_seq", "run_id", "resolved_run_id", "resolved_load_seq", "raw_path",
         "landing_path", "handled_at", "superseded_run_id", "superseded_load_seq"}


def _tables(url: str) -> dict[str, list[tuple]]:
    """Every row of staging, quarantine, findings and reporting, less what names a run."""
    with connect(url, read_only=True) as wh:
        names = [f"staging.{t}" for (t,) in wh.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'")]
        names += ["meta.quarantine", "meta.finding", "reporting.deflection",
                  "reporting.deflection_counts", "reporting.followup_compliance"]
        return table_rows(wh, names, _SKIP)


def _records_in(name: str, path: str) -> int:
    opener = gzip.open if name.endswith(".gz") else open  # landed as <name>.<digest prefix>
    with opener(path, "rb") as fh:
        return sum(1 for _ in etree.iterparse(fh, events=("end",), tag=RECORD_TAGS))


def test_records_accepted_before_are_counted_not_checked_and_change_nothing(
        drop, tmp_path, warehouse_url, monkeypatch):
    drop_dir, _ = drop
    extra = ("plain", "split")
    if warehouse_url.startswith("duckdb:"):
        urls = (warehouse_url, *(f"duckdb://{tmp_path / name}.duckdb" for name in extra))
    else:
        import psycopg
        from psycopg import sql

        base = warehouse_url.rsplit("/", 1)[1]
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            for name in extra:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(
                    sql.Identifier(f"{base}_{name}")))
        urls = (warehouse_url, *(warehouse_url.rsplit("/", 1)[0] + f"/{base}_{name}"
                                 for name in extra))

    skipping = _two_nights(drop_dir, tmp_path / "skipping", urls[0])
    with monkeypatch.context() as m:  # the recognition off: every record checked again
        m.setattr(process._Batch, "known", lambda self, version, ids: set())
        plain_url = _two_nights(drop_dir, tmp_path / "plain", urls[1])
    with monkeypatch.context() as m:  # every file a batch of its own
        m.setattr(pipeline, "plan_source", functools.partial(pipeline.plan_source,
                                                             batch_bytes=1))
        m.setattr(pipeline, "SPREAD_BATCHES", 10**9)
        split_url = _two_nights(drop_dir, tmp_path / "split", urls[2])

    try:
        plain_tables = _tables(plain_url)
        assert _tables(skipping) == plain_tables
        assert _tables(split_url) == plain_tables
        with connect(split_url, read_only=True) as wh:
            batches, night_files = wh.query_one(
                "SELECT count(*), max(files_seen) FROM meta.load_audit")
        # every file a batch of its own; each of the two nights has several files of a source
        assert night_files == 1 and batches > 2 * len(
            load_config(tmp_path / "split" / "deflect.yaml").sources)
        with connect(skipping, read_only=True) as wh:
            ledger = wh.query(
                "SELECT l.remote_name, l.landing_path, l.records_loaded, l.records_quarantined, "
                "l.records_already_accepted, r.night FROM meta.file_ledger l JOIN ("
                "SELECT run_id, DENSE_RANK() OVER (ORDER BY run_id) AS night "
                "FROM meta.file_ledger GROUP BY run_id) r ON r.run_id = l.run_id "
                "WHERE l.status = 'loaded'")
            # a record staged the first night and again, changed, the second
            changed = wh.query_one(
                "SELECT count(*) FROM (SELECT record_id FROM staging.stg_meg__case "
                "GROUP BY record_id HAVING count(DISTINCT record_sha256) > 1 "
                "AND count(DISTINCT batch_id) > 1) c")[0]
        with connect(plain_url, read_only=True) as wh:
            plain_skipped = wh.query_one(
                "SELECT COALESCE(sum(records_already_accepted), 0) FROM meta.file_ledger")[0]
        assert plain_skipped == 0
        assert changed > 0
        by_night = {1: 0, 2: 0}
        for name, path, loaded, quarantined, already, night in ledger:
            assert loaded + quarantined + already == _records_in(name, path), name
            by_night[int(night)] += already
        # within the first night (earlier files of the batch), and from the warehouse the second
        assert by_night[1] > 0 and by_night[2] > 0
    finally:
        if not warehouse_url.startswith("duckdb:"):
            import psycopg
            from psycopg import sql

            with psycopg.connect(warehouse_url.rsplit("/", 1)[0] + "/postgres",
                                 autocommit=True) as conn:
                for name in extra:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(f"{base}_{name}")))
