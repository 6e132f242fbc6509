"""End to end, in-process: three months of generated exports with every defect code, through
`deflect run` (ingestion, load, linking, attribution, follow-up) into each warehouse backend.
The `reporting` views must equal the generator's ground truth exactly, a second run must change
no reported figure, and no name or birth date may reach any table.

The ground truth is computed by the generator from its own model (generator/truth.py), never by
running the pipeline, so agreement here is evidence and not an echo.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import yaml

from deflect import pipeline
from deflect.configuration import load_config
from deflect.core.units import default_reference_path
from devtools.scan import words
from generator import GeneratorConfig, generate
from generator.defects import FILE_CODES, RECORD_CODES
from tests.warehouse.helpers import assert_no_pii, people_needles
from warehouse import connect

pytestmark = pytest.mark.slow

THREE_MONTHS = GeneratorConfig(start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30), seed=2026,
                               forms_per_day=20, attachment_kb=2, large_attachments=0,
                               defect_rate=0.03)
VIEWS = ("deflection", "deflection_counts", "followup_compliance")


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("drop")
    return out, generate(THREE_MONTHS, out)


def _value(v):
    """Numbers as numbers (Decimal, numpy and int alike), dates and text as text; NULL and NaN
    are the same absence."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return v.isoformat()
    try:
        return round(float(v), 6)
    except (TypeError, ValueError):
        return str(v)


def _rows(records: list[dict], columns: list[str]) -> list[tuple]:
    return sorted((tuple(_value(r.get(c)) for c in columns) for r in records), key=repr)


def _reporting(url: str, view: str) -> list[dict]:
    with connect(url, read_only=True) as wh:
        return wh.read_frame(f"select * from reporting.{view}").to_dict(orient="records")


def _config(drop_dir: Path, work: Path, url: str) -> Path:
    """The generator's config, pointed at this test's warehouse and areas."""
    data = yaml.safe_load((drop_dir / "deflect.yaml").read_text(encoding="utf-8"))
    for s in data["sources"]:  # relative file: URLs, made absolute for a config elsewhere
        s["url"] = "file://" + str((drop_dir / s["url"].split(":", 1)[1]).resolve())
    data.update(warehouse=url, landing_dir=str(work / "landing"), work_dir=str(work / "work"),
                report_dir=str(work / "reports"))
    path = work / "deflect.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def personal_needles(people: Path, reference_units: Path) -> list[str]:
    """The generator's names and birth dates, less what cannot identify anyone here: single
    initials (they equal one-letter codes such as sex "M") and words of the public unit
    reference (a surname such as Scott is also a county named in it)."""
    public = words(Path(reference_units).read_text(encoding="utf-8"))
    return [n for n in people_needles(people) if len(n) > 1 and words(n) not in public]


def test_the_drop_holds_every_defect_code(drop):
    _, manifest = drop
    assert {d["code"] for d in manifest["defects"]} >= set(FILE_CODES) | set(RECORD_CODES)


def test_reporting_equals_ground_truth_and_a_second_run_changes_nothing(drop, tmp_path,
                                                                        warehouse_url):
    drop_dir, manifest = drop
    # A DuckDB URL in a config is relative to the config's folder (duckdb:///file).
    given = "duckdb:///warehouse.duckdb" if warehouse_url.startswith("duckdb:") else warehouse_url
    config = load_config(_config(drop_dir, tmp_path, given))
    url = config.warehouse
    as_of = dt.date.fromisoformat(manifest["as_of"])

    first = pipeline.run(config, as_of=as_of, publish=False)
    assert not first["failed_sources"]
    for view in VIEWS:
        truth = manifest["reporting"][view]
        assert truth, f"the ground truth has no {view} rows"
        columns = sorted(truth[0])
        got = _reporting(url, view)
        assert sorted(got[0]) == sorted(truth[0]), f"{view}: columns differ from the truth's"
        assert _rows(got, columns) == _rows(truth, columns), view

    before = {view: _reporting(url, view) for view in VIEWS}
    second = pipeline.run(config, as_of=as_of, publish=False)
    assert not second["failed_sources"]
    for view in VIEWS:
        columns = sorted(before[view][0])
        assert _rows(_reporting(url, view), columns) == _rows(before[view], columns), view
    assert all(s["files_loaded"] == 0 and s["records_loaded"] == 0
               for s in second["sources"].values())

    with connect(url, read_only=True) as wh:
        units = config.reference_units or default_reference_path()
        assert_no_pii(wh, personal_needles(drop_dir / "people.json", units))
