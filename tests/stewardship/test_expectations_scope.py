"""The reporting suites cost what the night brings: reporting.deflection is checked row by row
only where tonight's refresh changed it (marts.fct_deflection.changed_run_id), a suite with no
rows to check is recorded as skipped (not failed), deflection_id's uniqueness over the whole view
is the primary key's, and the Data Docs render only what is new. Both backends."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from deflect.core.units import load_units, unit_codes
from deflect.pipeline import report as publish_run
from stewardship import expectations
from stewardship.report import write_run_report
from tests.stewardship import fixtures
from warehouse import connect, migrate

pytestmark = pytest.mark.slow

CHANGED_OK = "D0000000000000000000000a1"
CHANGED_BAD = "D0000000000000000000000a2"  # tonight's, unit outside the reference
OLD_BAD = "D0000000000000000000000b1"  # an earlier night's, age 130: not looked at again
RUN3 = "20261103T073000Z-cccc0003"
COLUMNS = ("deflection_id", "person_key", "referral_date", "referral_quarter", "pathway",
           "approving_unit_code", "originating_agency_type", "county_fips", "sources", "sex",
           "race", "age_at_referral", "evaluated_within_90_days", "outcome", "flags",
           "changed_run_id")


def _row(deflection_id, unit="SIEG", age=41, run=fixtures.RUN2):
    return [deflection_id, "b" * 64, dt.date(2026, 8, 5), "2026-Q3", "SELF_REFERRAL", unit,
            "MEG", "17199", "TRACS+MEG", "M", "B", age, True, "SUCCESSFUL", "W10", run]


@pytest.fixture
def env(tmp_path, warehouse_url):
    config = fixtures.make_config(tmp_path, warehouse=warehouse_url)
    with connect(config.warehouse) as wh:
        migrate(wh)
        marks = ", ".join("?" for _ in COLUMNS)
        with wh.transaction():
            for row in (_row(CHANGED_OK), _row(CHANGED_BAD, unit="NOPE"),
                        _row(OLD_BAD, age=130, run=fixtures.RUN1)):
                wh.execute(f"INSERT INTO marts.fct_deflection ({', '.join(COLUMNS)}) "
                           f"VALUES ({marks})", row)
    return config


def _suites(config):
    return expectations.build_suites(unit_codes(load_units(config.reference_units)))


def _entry(summary, name):
    return next(s for s in summary["suites"] if s["suite"] == name)


def test_only_the_rows_tonight_changed_are_checked_and_the_rest_is_skipped(env):
    summary = expectations.run_expectations(env, fixtures.RUN2, suites=_suites(env))
    deflection = _entry(summary, "reporting_deflection")
    assert deflection["rows"] == 2 and deflection["scope"] == "changed"
    assert deflection["table_rows"] == 3
    failed = {tuple(x["columns"]): x for x in deflection["expectations"] if not x["success"]}
    assert set(failed) == {("approving_unit_code",)}  # OLD_BAD's age is not looked at again
    assert failed[("approving_unit_code",)]["unexpected_rows"] == [
        {"deflection_id": CHANGED_BAD, "approving_unit_code": "NOPE"}]
    assert deflection["guaranteed"] == [expectations.DEFLECTION_ID_UNIQUE]
    assert "ExpectColumnValuesToBeUnique" not in {
        x.kind for s in _suites(env) if s.name == "reporting_deflection" for x in s.expectations}
    # empty views: recorded as skipped, neither run nor failed
    for name in ("reporting_deflection_counts", "reporting_followup_compliance",
                 "reporting_load_run"):
        entry = _entry(summary, name)
        assert entry["skipped"] == expectations.SKIPPED_NO_ROWS and entry["success"] is True
        assert entry["rows"] == 0 and entry["expectations"] == []
        assert entry["data_docs_page"] is None
    assert summary["success"] is False and summary["failed"] == 1

    # a night whose refresh changed nothing: nothing to check row by row, nothing failed
    quiet = expectations.run_expectations(env, RUN3, suites=_suites(env))
    deflection = _entry(quiet, "reporting_deflection")
    assert deflection["skipped"] == expectations.SKIPPED_NO_ROWS and deflection["rows"] == 0
    assert deflection["table_rows"] == 3
    assert quiet["success"] is True and quiet["evaluated"] == 0


def test_the_report_says_which_rows_were_checked(env):
    result = publish_run(env, fixtures.RUN2)
    html = Path(result["report"]).read_text(encoding="utf-8")
    section = html.split('<section id="expectations">')[1].split("</section>")[0]
    assert "the rows tonight&#x27;s refresh changed, of 3 in the view" in section
    assert "skipped: " + expectations.SKIPPED_NO_ROWS in section
    assert "primary key of marts.fct_deflection" in section
    assert CHANGED_BAD in section and OLD_BAD not in section


def test_deflection_ids_are_unique_by_the_primary_key(env):
    """What the row-level suite no longer checks over the whole view: the warehouse refuses a
    second row of a deflection_id."""
    with connect(env.warehouse) as wh:
        marks = ", ".join("?" for _ in COLUMNS)
        with pytest.raises(Exception, match="(?i)duplicate|unique|primary key"):
            wh.execute(f"INSERT INTO marts.fct_deflection ({', '.join(COLUMNS)}) "
                       f"VALUES ({marks})", _row(CHANGED_OK, run=RUN3))


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_data_docs_render_only_what_is_new(env, monkeypatch):
    docs = env.report_dir / expectations.DATA_DOCS_DIR
    first = expectations.run_expectations(env, fixtures.RUN1, suites=_suites(env))
    suite_page = docs / "expectations" / "reporting_deflection.html"
    assert suite_page.exists() and _entry(first, "reporting_deflection")["rows"] == 1
    suite_page.write_text("rendered before", encoding="utf-8")  # would be rendered again if
    second = expectations.run_expectations(env, fixtures.RUN2, suites=_suites(env))
    assert suite_page.read_text(encoding="utf-8") == "rendered before"
    assert (env.report_dir / _entry(second, "reporting_deflection")["data_docs_page"]).exists()
    suite_page.unlink()  # a missing page is rendered again
    monkeypatch.setattr(expectations, "INDEX_RESULTS", 1)
    with connect(env.warehouse) as wh:
        wh.execute("UPDATE marts.fct_deflection SET changed_run_id = ? WHERE deflection_id = ?",
                   [RUN3, CHANGED_OK])
    expectations.run_expectations(env, RUN3, suites=_suites(env))
    assert suite_page.exists() and "rendered before" not in suite_page.read_text()
    rendered = json.loads((env.report_dir / expectations.SUITE_PAGES).read_text())
    assert set(rendered) == {s.name for s in _suites(env)}
    # the index lists the newest results only (every result is kept on disk)
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert RUN3 in index and fixtures.RUN1 not in index and fixtures.RUN2 not in index
    kept = list((env.report_dir / expectations.VALIDATIONS_DIR).rglob("*.json"))
    assert {p.relative_to(env.report_dir / expectations.VALIDATIONS_DIR).parts[1]
            for p in kept} == {fixtures.RUN1, fixtures.RUN2, RUN3}


def test_unchanged_rows_take_their_last_result_over(env, monkeypatch):
    """A reporting suite whose rows and expectations are those of its last validation is not
    validated again: the same rows under the same expectations give the same result, which the
    report shows with the run that validated it. Rows that changed are validated."""
    suites = _suites(env)
    frames = expectations.frames_for_run(env, fixtures.RUN2, suites)
    validated = []
    real = expectations._validate_part

    def spy(gx, vd, suite, frame, run_name, run_time):
        validated.append(suite.name)
        return real(gx, vd, suite, frame, run_name, run_time)

    monkeypatch.setattr(expectations, "_validate_part", spy)
    first = expectations.run_expectations(env, fixtures.RUN1, suites=suites, frames=frames)
    assert validated == ["reporting_deflection"]
    validated.clear()
    second = expectations.run_expectations(env, fixtures.RUN2, suites=suites, frames=frames)
    assert validated == []
    before, after = _entry(first, "reporting_deflection"), _entry(second, "reporting_deflection")
    assert after["same_as"]["run_id"] == fixtures.RUN1
    assert after["expectations"] == before["expectations"] and not after["success"]
    assert after["data_docs_page"] == before["data_docs_page"]
    assert (env.report_dir / after["data_docs_page"]).exists()
    assert second["success"] is False and second["failed"] == first["failed"] == 1

    html = Path(write_run_report(env, fixtures.RUN2)).read_text(encoding="utf-8")
    assert f"rows unchanged since run {fixtures.RUN1}: its result" in html
    assert CHANGED_BAD in html  # the failed rows are still shown

    # another version of GX checks them: validated again
    import great_expectations

    monkeypatch.setattr(great_expectations, "__version__", "0.0.0-other")
    expectations.run_expectations(env, fixtures.RUN2, suites=suites, frames=frames)
    assert validated == ["reporting_deflection"]
    monkeypatch.undo()
    monkeypatch.setattr(expectations, "_validate_part", spy)
    validated.clear()

    # one value changed: validated again, and that result is the one kept from now on
    changed = {**frames, "reporting_deflection": frames["reporting_deflection"].assign(
        age_at_referral=[41, 42])}
    third = expectations.run_expectations(env, RUN3, suites=suites, frames=changed)
    assert validated == ["reporting_deflection"] and "same_as" not in _entry(
        third, "reporting_deflection")
    # the expectations changed (another unit reference): validated again
    validated.clear()
    other = expectations.build_suites(["SIEG", "NOPE"])
    fourth = expectations.run_expectations(env, RUN3, suites=other, frames=changed)
    assert validated == ["reporting_deflection"]
    assert _entry(fourth, "reporting_deflection")["success"] is True
