"""The validation report over a small hand-made warehouse."""

import json
import re

from adapters.registry import field_classes
from deflect.core.rules import CODES, message
from stewardship.masking import MASK
from stewardship.report import SECTIONS, write_run_report
from tests.stewardship import fixtures


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_report_has_every_section_and_lists_every_defect_code(env):
    path = write_run_report(env.config, fixtures.RUN2)
    assert path == env.report_dir / fixtures.RUN2 / "index.html"
    html = path.read_text(encoding="utf-8")
    for sid, title in SECTIONS:
        assert f'<section id="{sid}"><h2>{title}</h2>' in html
    findings = html.split('id="findings-table"')[1].split("</table>")[0]
    for code in CODES:
        assert f">{code}</span>" in findings, code
        assert message(code).replace("'", "&#x27;") in findings


def test_report_shows_per_source_counts_and_failed_sources(env):
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    table = html.split('id="sources-table"')[1].split("</table>")[0]
    row = table.split("<td>meg-sieg</td>")[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["2", "1", "0", "1", "0", "55", "2"]
    assert "failed sources: meg-sieg" in html


def test_every_quarantined_entry_of_the_run_is_shown_with_findings_and_masked_excerpt(env):
    html = write_run_report(env.config, fixtures.RUN2, field_classes()).read_text(
        encoding="utf-8")
    for qid in ("q-0002", "q-0003", "q-0004"):
        assert f'id="q-{qid}"' in html
    assert 'id="q-q-0001"' not in html  # an earlier run's entry is only counted
    assert "1 quarantine entry from earlier runs not yet resolved" in html
    entry = html.split('id="q-q-0003"')[1].split('<div class="entry"')[0]
    # the record's raw XML starts at file line 105: its line 15 is shown as file line 119
    assert '<span class="hit"><span class="ln">119</span>' in entry
    assert "Deflection SubjectId=&quot;2&quot;" in entry
    assert "/CaseActivityExport/Case/Deflections/Deflection" in entry
    file_entry = html.split('id="q-q-0002"')[1].split('<div class="entry"')[0]
    assert f"&lt;individualDOB&gt;{MASK}&lt;/individualDOB&gt;" in file_entry
    # the third raw file is found by its record digest though no raw_path was recorded
    rec = html.split('id="q-q-0004"')[1]
    assert f"&lt;narrative&gt;&lt;![CDATA[{MASK}]]&gt;&lt;/narrative&gt;" in rec


def test_no_personal_data_in_the_report(env):
    html = write_run_report(env.config, fixtures.RUN2, field_classes()).read_text(
        encoding="utf-8")
    for value in fixtures.personal_values():
        assert value not in html, value


def test_w_flags_are_counted_per_unit(env):
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    table = html.split('id="flags-table"')[1].split("</table>")[0]
    row = table.split("<td>UNATTRIBUTED</td>")[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">(?:<[^>]+>)?(\d+)', row) == ["1", "0", "1", "2"]


def test_report_is_self_contained(env):
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and " src=" not in html
    urls = set(re.findall(r"https?://[^\"' <)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert all(h.startswith("#") or not re.match(r"^[a-z]+:", h) for h in hrefs)


def test_trend_charts_cover_the_last_runs(env):
    write_run_report(env.config, fixtures.RUN1)
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    trends = html.split('id="trend-charts"')[1]
    assert trends.count("<svg") == 3
    assert "11-01 07:30: F04 1" in trends  # RUN1's finding, as a bar segment's tooltip
    assert "11-02 07:30: tracs-isp loaded 55" in trends


def test_index_lists_every_reported_run_newest_first(env):
    write_run_report(env.config, fixtures.RUN1)
    write_run_report(env.config, fixtures.RUN2)
    index = (env.report_dir / "index.html").read_text(encoding="utf-8")
    assert index.index(fixtures.RUN2) < index.index(fixtures.RUN1)
    assert f'href="{fixtures.RUN1}/index.html"' in index
    meta = json.loads((env.report_dir / fixtures.RUN2 / "report.json").read_text())
    assert meta["findings"] == len(CODES) + 1 and meta["failed_sources"] == ["meg-sieg"]


def test_report_without_quarantine_or_findings(env, tmp_path):
    # a run the warehouse knows nothing about still gets a readable page
    html = write_run_report(env.config, "20261103T073000Z-cccc0003").read_text(encoding="utf-8")
    assert "No findings in this run." in html and "Nothing was quarantined in this run." in html
    assert "The expectation suites were not run for this run." in html
