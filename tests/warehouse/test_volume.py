"""A larger batch goes through the same set-based path (backfills load a million forms)."""
import csv
import json
import time

import pytest

from adapters.registry import staging_columns
from deflect.core.canonical import BOOKKEEPING

TABLES = staging_columns()
from tests.warehouse.helpers import STAGING, current
from warehouse import load_batch

pytestmark = pytest.mark.slow
FORMS = 50_000


def write_big_batch(bdir, batch_id, forms, version=1):
    bdir.mkdir()
    lineage = {"source": "tracs-isp", "file_name": "TRACS_big.xml", "file_sha256": "a" * 64}

    def write(name, rows):
        cols = {**TABLES, **BOOKKEEPING}[name]
        with open(bdir / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows([("" if r.get(c) is None else r[c]) for c in cols] for r in rows)

    ids = [f"FR-26-{i:07d}" for i in range(forms)]
    write("stg_tracs__field_report", (
        {**lineage, "line": i, "record_id": rid, "form_version": version, "status": "Exported",
         "export_date": "2026-10-25", "report_number": f"ISP26-{i:06d}"}
        for i, rid in enumerate(ids)))
    write("stg_tracs__individual", (
        {**lineage, "line": i, "record_id": rid, "form_version": version, "seq": s,
         "disposition": "CD" if s == 1 else "AR"} for i, rid in enumerate(ids) for s in (1, 2)))
    write("stg_tracs__deflection", (
        {**lineage, "line": i, "record_id": rid, "form_version": version, "seq": 1,
         "pathway": "SELF_REFERRAL", "referral_date": "2026-10-24"}
        for i, rid in enumerate(ids)))
    for name in ("stg_tracs__evidence_item", *BOOKKEEPING):
        write(name, [])
    (bdir / "batch.json").write_text(json.dumps(
        {"batch_id": batch_id, "run_id": "r", "source": "tracs-isp", "kind": "tracs"}))
    return bdir


def test_fifty_thousand_forms(wh, tmp_path):
    started = time.monotonic()
    result = load_batch(wh, STAGING, write_big_batch(tmp_path / "b1", "b1", FORMS))
    assert result.records_loaded == FORMS
    assert result.rows_staged["stg_tracs__individual"] == 2 * FORMS
    newer = load_batch(wh, STAGING, write_big_batch(tmp_path / "b2", "b2", FORMS, version=2))
    assert newer.records_loaded == FORMS
    assert len(current(wh).tracs_individual) == 2 * FORMS
    assert time.monotonic() - started < 120
