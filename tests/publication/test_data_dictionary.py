"""The data dictionary on what is published: the export files' fields say what the package's
Table Schemas say, the example SQL over the vintage views runs where the views exist, and the
double-count query finds the pair it warns about."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from deflect.pipeline import build_marts
from publication.fields import FIELDS
from tests.warehouse import conftest as warehouse_fixtures
from tests.warehouse.helpers import STAGING, meg_case, merge, tracs_form, write_batch
from warehouse import load_batch, refresh

# the warehouse tests' fixtures: one migrated warehouse per backend, emptied for each test
migrated_url = warehouse_fixtures.migrated_url
wh = warehouse_fixtures.wh
DOC = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"
VINTAGE_VIEWS = ("reporting.publication", "reporting.published_history", "reporting.revision",
                 "reporting.published_statutory_measures",
                 "reporting.published_deflections_by_category")


def _section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = re.search(rf"^## {re.escape(heading)}\s*$", text, flags=re.MULTILINE)
    assert start, heading
    return re.split(r"^## ", text[start.end():], maxsplit=1, flags=re.MULTILINE)[0]


def _blocks(fence: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(rf"```{fence}\n(.*?)```", text, flags=re.DOTALL)
    return [s.strip().rstrip(";") for b in blocks for s in b.split(";\n") if s.strip()]


def test_export_fields_are_documented_with_the_package_words():
    rows = re.findall(r"^\| `([a-z_0-9]+)` \| (\w+) \| (.*) \|$", _section("Export files"),
                      flags=re.MULTILINE)
    documented = {name: (kind, text) for name, kind, text in rows}
    assert documented == {f.name: (f.type, f.description) for f in FIELDS.values()}


def test_the_new_views_are_documented_with_their_columns():
    for view, columns in (
        ("reporting.publication", ("vintage_id", "quarter", "as_of", "published_at", "run_id",
                                   "superseded_by")),
        ("reporting.published_history", ("vintage_id", "table_name", "approving_unit_code",
                                         "referral_quarter", "measure", "value", "suppressed")),
        ("reporting.revision", ("vintage_id", "previous_vintage_id", "old_value", "new_value",
                                "late_report", "correction", "void", "relink", "attribution",
                                "followup")),
        ("reporting.published_statutory_measures", (
            "participants", "encounters", "matured_30", "engaged_30", "engagement_rate_30",
            "median_days_to_engagement", "suppressed_measures")),
        ("reporting.published_deflections_by_category", ("table_name", "dimension", "category",
                                                         "deflections", "suppressed")),
        ("reporting.published_deflection_counts", ("vintage_id", "origin")),
    ):
        text = DOC.read_text(encoding="utf-8")
        heading = re.search(rf"^## `{re.escape(view)}`.*$", text, flags=re.MULTILINE)
        assert heading, view
        body = re.split(r"^#+ ", text[heading.end():], maxsplit=1, flags=re.MULTILINE)[0]
        for column in columns:
            assert f"`{column}`" in body, (view, column)


def _has_vintage_views(wh) -> bool:
    found = {f"{s}.{n}" for s, n in wh.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema = 'reporting'")}
    return all(v in found for v in VINTAGE_VIEWS)


def test_example_sql_over_the_vintage_views_runs(wh):
    blocks = _blocks("sql vintage")
    assert len(blocks) >= 4
    if not _has_vintage_views(wh):
        pytest.skip("the vintage views (reporting.publication and its kin) are not in this "
                    "warehouse's migrations")
    for sql in blocks:
        wh.query(sql)


def _double_count(wh, tmp_path):
    """One deflection reported by both systems but not linkable: TraCS under its report number,
    MEG naming another report; same unit, referral date and pathway."""
    case = meg_case("SIEG/SIEG-2026-0042", "2026-10-26T09:15:00")
    case["stg_meg__case"][0]["tracs_report_number"] = "ISP26-999999"
    case["stg_meg__deflection"][0].update(referral_date="2026-10-24", pathway="SELF_REFERRAL")
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", merge(
        tracs_form("FR-26-0000042", 1, report="ISP26-000042"))))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "meg", case))
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=dt.date(2026, 12, 1), build=build_marts)


def test_the_double_count_query_finds_the_pair_and_only_the_meg_row_has_w11(wh, tmp_path):
    _double_count(wh, tmp_path)
    rows = {s: (d, f, e) for d, s, f, e in wh.query(
        "SELECT deflection_id, sources, flags, ethnicity FROM reporting.deflection")}
    assert set(rows) == {"TRACS", "MEG"}
    assert "W11" in rows["MEG"][1].split(",") and "W11" not in rows["TRACS"][1].split(",")
    # and ethnicity is unknown (null) for the MEG-only one, as the dictionary warns
    assert rows["MEG"][2] is None and rows["TRACS"][2] == "N"
    query = next(b for b in _blocks("sql") if "AS meg_only" in b)
    found = wh.query(query)
    assert [(r[3], r[4]) for r in found] == [(rows["MEG"][0], rows["TRACS"][0])]
