"""Great Expectations suites on a load, the report that shows them, and the page in Chromium.

One GX run is shared by the tests of this module (importing GX alone takes several seconds).
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from deflect.pipeline import report as publish_run
from tests.stewardship import fixtures

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NAME_AS_KEY = "Kowalczykowa Bronislawa"  # an extraction bug putting a name where a key goes


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    env = fixtures.build(tmp_path_factory.mktemp("gx"))
    fixtures.write_run2_individuals(env, NAME_AS_KEY)
    result = publish_run(env.config, fixtures.RUN2)
    summary = json.loads((env.report_dir / "gx" / "results" / f"{fixtures.RUN2}.json").read_text())
    return env, result, summary


def _failed(summary, suite):
    return {
        (x["expectation"], tuple(x["columns"])): x
        for s in summary["suites"]
        if s["suite"] == suite
        for x in s["expectations"]
        if not x["success"]
    }


def test_failed_expectations_are_found_with_their_unexpected_rows(published):
    _, result, summary = published
    assert result["expectations_success"] is False and summary["success"] is False
    failed = _failed(summary, "reporting_deflection")
    unit = failed[("expect_column_values_to_be_in_set", ("approving_unit_code",))]
    assert unit["unexpected_rows"] == [
        {"deflection_id": fixtures.BAD_DEFLECTION, "approving_unit_code": "NOPE"}
    ]
    assert ("expect_column_values_to_be_between", ("age_at_referral",)) in failed
    assert len(failed) == 2  # everything else of the view meets its suite
    ind = _failed(summary, "canonical_tracs_individual")
    assert set(ind) == {
        ("expect_column_values_to_be_in_set", ("sex",)),
        ("expect_column_values_to_be_in_set", ("person_key_well_formed",)),
    }
    assert ind[("expect_column_values_to_be_in_set", ("sex",))]["unexpected_rows"][0]["seq"] == "2"
    # suites of tables this run did not bring are not run
    assert "canonical_meg_case" not in {s["suite"] for s in summary["suites"]}


def test_results_are_kept_and_data_docs_are_built_and_linked(published):
    env, result, summary = published
    kept = list((env.report_dir / "gx").rglob("*.json"))
    assert any("validations" in str(p) for p in kept)
    html = Path(result["report"]).read_text(encoding="utf-8")
    assert 'id="data-docs-link"' in html and 'id="expectations-link"' in html
    href = html.split('id="data-docs-link"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert (
        Path(result["report"]).parent / href
    ).resolve() == env.report_dir / "data_docs" / "index.html"
    assert (env.report_dir / "data_docs" / "index.html").exists()
    for suite in summary["suites"]:  # each suite's result page, linked from the report
        assert (env.report_dir / suite["data_docs_page"]).exists()
        assert Path(suite["data_docs_page"]).name in html
    section = html.split('<section id="expectations">')[1].split("</section>")[0]
    assert fixtures.BAD_DEFLECTION in section and "NOPE" in section


def test_a_later_run_keeps_the_earlier_results_in_the_data_docs_index(tmp_path):
    """The suites live in memory for one run; the results and their pages stay on disk."""
    env = fixtures.build(tmp_path)
    for run_id in (fixtures.RUN1, fixtures.RUN2):
        publish_run(env.config, run_id)
    kept = {p.relative_to(env.report_dir / "gx" / "uncommitted" / "validations").parts[1]
            for p in (env.report_dir / "gx" / "uncommitted" / "validations").rglob("*.json")}
    assert kept == {fixtures.RUN1, fixtures.RUN2}
    index = (env.report_dir / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert fixtures.RUN1 in index and fixtures.RUN2 in index


def test_no_personal_data_in_report_data_docs_or_gx_store(published):
    env, _, _ = published
    checked = 0
    for path in env.report_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".csv", ".yml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            checked += 1
            for value in fixtures.personal_values() + [NAME_AS_KEY]:
                assert value not in text, (value, path)
    assert checked > 5


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="Chromium is missing: scripts/install-chromium.sh installs it",
)
def test_report_opens_in_headless_chromium_with_its_sections(published):
    _, result, _ = published
    url = Path(result["report"]).as_uri()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "validation-report.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        flags = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
        ]
        dom = subprocess.run(
            flags + ["--dump-dom", url], capture_output=True, text=True, timeout=60, check=True
        ).stdout
        subprocess.run(
            flags + [f"--screenshot={shot}", "--window-size=1280,2000", url],
            capture_output=True,
            timeout=60,
            check=True,
        )
    for sid in ("tonight", "sources", "codes", "flags", "expectations", "trends"):
        assert f'<section id="{sid}">' in dom
    assert dom.count("<svg") == 3 and "sources-table" in dom and "codes-table" in dom
    assert shot.exists() and shot.stat().st_size > 10_000
