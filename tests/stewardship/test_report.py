"""The validation report over a small hand-made warehouse."""

import json
import re

import duckdb
import pytest
import yaml

from adapters.registry import field_classes
from deflect.core.config import ConfigError
from deflect.core.rules import CODES, message, rule
from stewardship.charts import stacked_bars, top_series
from stewardship.contacts import load_contacts
from stewardship.masking import MASK
from stewardship.report import SECTIONS, write_run_report
from tests.stewardship import fixtures


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def _cells(row: str) -> list[str]:
    """The figures of a table row, links and muted zeros alike."""
    return re.findall(r'<td class="num">(?:<b>)?(?:<a href="[^"]*">|<span class="muted">)?(\d+)',
                      row)


def test_report_has_every_section_and_explains_every_code_of_the_night(env):
    path = write_run_report(env.config, fixtures.RUN2)
    assert path == env.report_dir / fixtures.RUN2 / "index.html"
    html = path.read_text(encoding="utf-8")
    for sid, title in SECTIONS:
        assert f'<section id="{sid}"><h2>{title}</h2>' in html
    codes = html.split('id="codes-table"')[1].split("</table>")[0]
    # the codes of the night's entries (fixtures: q-0001 to q-0005)
    night = ["F01", "F02", "F03", "F04", "F05", "F06", "F07", "F08", "S01", "B01", "B03", "B05"]
    assert re.findall(r'<tr><td><span class="code lvl-\w+">(\w+)</span>', codes) == night
    catalogue = html.split('id="catalogue-table"')[1].split("</table>")[0]
    assert re.findall(r'<tr><td><span class="code lvl-\w+">(\w+)</span>', catalogue) == list(CODES)
    for code in night:
        assert message(code).replace("'", "&#x27;") in codes
        assert rule(code).action.replace("'", "&#x27;") in codes
    # whom to ask: the unit's contact, or a note that the contacts file has none
    assert "not in the contacts file" in codes


def test_report_shows_per_source_counts_and_failed_sources(env):
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    table = html.split('id="sources-table"')[1].split("</table>")[0]
    meg = table.split('meg-sieg.html">meg-sieg</a>')[1].split("</tr>")[0]
    # files seen, loaded, pending, duplicate; records loaded; record entries quarantined by
    # the run; entries new, carried over, resolved
    assert _cells(meg) == ["2", "1", "0", "0", "55", "1", "1", "0", "1"]
    tracs = table.split('tracs-isp.html">tracs-isp</a>')[1].split("</tr>")[0]
    assert _cells(tracs) == ["3", "2", "0", "0", "55", "1", "2", "1", "0"]
    assert "failed sources: meg-sieg" in html
    assert 'id="verdict">Tonight: failed<' in html


def test_every_entry_of_the_night_is_shown_on_its_source_page(env):
    write_run_report(env.config, fixtures.RUN2, field_classes())
    pages = env.report_dir / fixtures.RUN2 / "sources"
    tracs = (pages / "tracs-isp.html").read_text(encoding="utf-8")
    meg = (pages / "meg-sieg.html").read_text(encoding="utf-8")
    for qid in ("q-0002", "q-0004"):
        assert f'id="q-{qid}"' in tracs
    # the F04 file of the night before, still open: carried over, not quarantined again;
    # counted under its source, level and code, with the query that lists it, not detailed
    carried = tracs.split('<section class="group" id="carried">')[1].split("</section>")[0]
    assert 'id="q-q-0001"' not in carried
    row = carried.split('<tr class="carried-row">')[1].split("</tr>")[0]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row)[:1] == ["file"] and ">F04<" in row
    assert '<td class="num">1</td>' in row
    assert "deflect quarantine list --source tracs-isp --status open" in carried
    assert "FROM quality.quarantine WHERE source = &#x27;tracs-isp&#x27;" in carried
    resolved = meg.split('<section class="group" id="resolved">')[1].split("</section>")[0]
    assert 'id="q-q-0005"' in resolved and 'class="badge resolved"' in resolved
    entry = meg.split('id="q-q-0003"')[1].split('<div class="entry"')[0]
    # the record's raw XML starts at file line 105: its line 15 is shown as file line 119
    assert '<span class="hit"><span class="ln">119</span>' in entry
    assert "Deflection SubjectId=&quot;2&quot;" in entry
    assert "/CaseActivityExport/Case/Deflections/Deflection" in entry
    assert "What to send back:" in entry and rule("S01").action in entry
    file_entry = tracs.split('id="q-q-0002"')[1].split('<div class="entry"')[0]
    assert f"&lt;individualDOB&gt;{MASK}&lt;/individualDOB&gt;" in file_entry
    # the third raw file is found by its record digest though no raw_path was recorded
    rec = tracs.split('id="q-q-0004"')[1]
    assert f"&lt;narrative&gt;&lt;![CDATA[{MASK}]]&gt;&lt;/narrative&gt;" in rec


def test_source_pages_on_several_cores_are_the_pages_of_one(env, monkeypatch, tmp_path):
    """A night with many entries renders its source pages in forked processes: the same bytes
    as one after another (the generation time held fixed)."""
    import os

    from stewardship import report

    monkeypatch.setattr(report.dt, "datetime", _FixedNow)
    pages = env.report_dir / fixtures.RUN2 / "sources"

    def written() -> dict[str, str]:
        write_run_report(env.config, fixtures.RUN2, field_classes())
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(pages.iterdir())}

    monkeypatch.setattr(report, "PARALLEL_PAGES_MIN_ENTRIES", 10**9)
    one = written()
    monkeypatch.setattr(report, "PARALLEL_PAGES_MIN_ENTRIES", 0)
    _PageNoter.pids, _PageNoter.original = tmp_path / "pids", report.source_page
    monkeypatch.setattr(report, "source_page", _PageNoter.page)
    several = written()
    assert len(one) >= 2 and several == one
    pids = set(_PageNoter.pids.read_text().split())
    assert len(one) == len(_PageNoter.pids.read_text().split())
    assert str(os.getpid()) not in pids  # rendered in the workers, not in this process
    # a night whose frames are too large for every worker to copy: one page at a time, here
    _PageNoter.pids.unlink()
    monkeypatch.setattr(report, "PARALLEL_PAGES_MAX_ROWS", 0)
    assert written() == one
    assert set(_PageNoter.pids.read_text().split()) == {str(os.getpid())}


class _FixedNow(__import__("datetime").datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2026, 11, 29, 12, 0, tzinfo=tz)


class _PageNoter:
    """source_page, noting the process that rendered each page."""

    pids = None
    original = None

    @staticmethod
    def page(*args):
        import os

        with open(_PageNoter.pids, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        return _PageNoter.original(*args)


def test_units_contacts_come_from_the_contacts_file(env, tmp_path):
    contacts = tmp_path / "contacts.yaml"
    contacts.write_text(yaml.safe_dump({"units": {
        "sieg": {"name": "Records desk", "email": "records@sieg.example",
                 "phone": "+1 217 555 0101"},
        "ISP": {"name": "TraCS export operator", "email": "tracs@isp.example"}}}))
    config = env.config.model_copy(update={"contacts_file": contacts})
    assert load_contacts(contacts)["SIEG"].email == "records@sieg.example"
    html = write_run_report(config, fixtures.RUN2).read_text(encoding="utf-8")
    codes = html.split('id="codes-table"')[1].split("</table>")[0]
    s01 = codes.split(">S01</span>")[1].split("</tr>")[0]
    assert "Records desk" in s01 and 'href="mailto:records@sieg.example"' in s01
    page = (env.report_dir / fixtures.RUN2 / "sources" / "meg-sieg.html").read_text()
    assert "+1 217 555 0101" in page and "--unit SIEG --status open" in page
    contacts.write_text("units: {SIEG: {name: x, email: not-an-address}}")
    with pytest.raises(ConfigError, match="not an e-mail address"):
        load_contacts(contacts)


def test_no_personal_data_in_the_report(env):
    html = write_run_report(env.config, fixtures.RUN2, field_classes()).read_text(
        encoding="utf-8")
    for value in fixtures.personal_values():
        assert value not in html, value


def test_w_flags_are_counted_per_unit_with_the_deflections_behind_them(env):
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    table = html.split('id="flags-table"')[1].split("</table>")[0]
    row = table.split("<td>UNATTRIBUTED</td>")[1].split("</tr>")[0]
    assert _cells(row) == ["1", "0", "1", "2"]
    assert 'href="flags.html#UNATTRIBUTED-W15"' in row
    flags = (env.report_dir / fixtures.RUN2 / "flags.html").read_text(encoding="utf-8")
    w15 = flags.split('id="UNATTRIBUTED-W15"')[1].split("</div>")[0]
    assert "D0123456789abcdef01234567" in w15 and "D00000000000000000000002a" not in w15


def test_the_run_pages_are_self_contained(env):
    write_run_report(env.config, fixtures.RUN2)
    folder = env.report_dir / fixtures.RUN2
    pages = list(folder.rglob("*.html"))
    assert len(pages) == 6  # the night, its entries, flags, expectations, a page per source
    for page in pages:
        html = page.read_text(encoding="utf-8")
        # the entries page alone carries a few lines of inline script, for its filter
        assert html.count("<script") == (1 if page.name == "entries.html" else 0), page
        assert "<link" not in html and " src=" not in html
        urls = set(re.findall(r"https?://[^\"' <)]+", html))
        assert urls <= {"http://www.w3.org/2000/svg"}
        for href in re.findall(r'href="([^"]+)"', html):
            if href.startswith(("#", "mailto:")):
                continue
            assert not re.match(r"^[a-z]+:", href), href
            target = href.split("#")[0].split("?")[0]
            assert (page.parent / target).resolve().exists(), (page, href)


def test_trend_charts_are_in_nights_and_mark_replays(env):
    write_run_report(env.config, fixtures.RUN1)
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    trends = html.split('id="trend-charts"')[1]
    assert trends.count("<svg") == 3
    assert "2026-11-01: F04 1" in trends  # RUN1's entry, as a bar segment's tooltip
    assert "2026-11-02: tracs-isp 55" in trends
    assert "(replay)" not in trends
    con = duckdb.connect(str(env.db_path))
    con.execute("insert into meta.replay (run_id, source, file_name, replay_of_run_id) "
                "values (?, 'meg-sieg', 'x.xml', ?)", [fixtures.RUN2, fixtures.RUN1])
    con.close()
    html = write_run_report(env.config, fixtures.RUN2).read_text(encoding="utf-8")
    assert "2026-11-02 (replay): tracs-isp 55" in html and 'class="marked"' in html


def test_charts_stay_readable_with_21_sources():
    labels = [f"2026-11-{d:02d}" for d in range(1, 15)]
    series = {f"meg-unit-with-a-long-name-{i:02d}": [float(i)] * 14 for i in range(21)}
    svg = stacked_bars(labels, top_series(series, 6), "Records loaded", marked={3})
    legend = re.findall(r'class="tick legend">([^<]+)<', svg)
    assert len(legend) == 7 and legend[-1] == "other"
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    height = int(re.search(r'height="(\d+)"', svg).group(1))
    for x, y in re.findall(r'<rect x="([0-9.]+)" y="([0-9.]+)" width="10"', svg):
        assert float(x) + 10 + 6.6 * len(legend[0]) < width and float(y) + 10 < height
    assert svg.count('class="marked"') == 7  # the replay's bar, one hatch per segment


def test_index_lists_every_reported_run_newest_first(env):
    write_run_report(env.config, fixtures.RUN1)
    write_run_report(env.config, fixtures.RUN2)
    index = (env.report_dir / "index.html").read_text(encoding="utf-8")
    assert index.index(fixtures.RUN2) < index.index(fixtures.RUN1)
    assert f'href="{fixtures.RUN1}/index.html"' in index
    meta = json.loads((env.report_dir / fixtures.RUN2 / "report.json").read_text())
    assert (meta["verdict"], meta["new"], meta["carried"], meta["resolved"]) == (
        "failed", 3, 1, 1)
    assert meta["failed_sources"] == ["meg-sieg"]


def test_report_without_quarantine_or_findings(env, tmp_path):
    # a run the warehouse knows nothing about still gets a readable page
    html = write_run_report(env.config, "20261103T073000Z-cccc0003").read_text(encoding="utf-8")
    assert "is not recorded in the warehouse" in html and "No entry tonight." in html
    assert "The expectation suites were not run for this run." in html


def test_a_long_flag_list_is_cut_with_its_count_and_the_query_for_all(env, monkeypatch):
    from stewardship import report

    monkeypatch.setattr(report, "MAX_FLAG_IDS", 0)  # the fixture has one id per flag
    write_run_report(env.config, fixtures.RUN2)
    flags = (env.report_dir / fixtures.RUN2 / "flags.html").read_text(encoding="utf-8")
    cut = [b for b in flags.split('class="flag"')[1:] if "more; all of them" in b]
    assert cut
    block = cut[0].split("</div>")[0]
    assert '<span class="code">D' not in block and "1 deflection(s)" in block
    assert "and 1 more" in block and "LIKE &#x27;%,W" in block


def _frame_selection(entry: dict, findings) -> list[dict]:
    """The findings of an entry selected from the frame as the report did entry by entry."""
    f = findings[findings["run_id"] == entry["run_id"]]
    sel = (f["source"] == entry["source"]) & (f["file_name"] == entry["file_name"])
    if entry.get("level") == "record" and entry.get("record_id") is not None:
        sel &= f["record_id"] == entry["record_id"]
    else:
        sel &= f["level"] == "file"
    return f[sel].to_dict(orient="records")


def _same(a: list[dict], b: list[dict]) -> bool:
    # NaN is not equal to itself: compare what the report shows of each finding
    return [json.dumps(r, sort_keys=True, default=str) for r in a] == \
        [json.dumps(r, sort_keys=True, default=str) for r in b]


def test_entry_findings_are_those_a_frame_selection_gives(env):
    """The findings grouped once per page are, entry by entry and in order, those the frame
    selection gave: the hand-made night, and a frame with the awkward cases (several runs,
    the same record id in two files, missing ids, file findings beside record findings)."""
    import pandas as pd

    from stewardship import data
    from stewardship.report import _entry_findings, _findings_by_entry, read_run_data

    with data.open_warehouse(env.config) as wh:
        d = read_run_data(wh, fixtures.RUN2, env.report_dir)
    assert len(d.quarantine) and len(d.findings)
    nonempty = 0
    for entry in d.quarantine.to_dict(orient="records"):
        got = _entry_findings(entry, _findings_by_entry(d.findings))
        assert _same(got, _frame_selection(entry, d.findings)), entry["quarantine_id"]
        nonempty += bool(got)
    assert nonempty > 0

    def finding(run, file, rid, level, code, line):
        return {"run_id": run, "source": "s", "file_name": file, "record_id": rid,
                "level": level, "code": code, "line": line, "column": None, "path": None,
                "message": code}

    findings = pd.DataFrame([
        finding("r1", "a.xml", "FR-1", "record", "S01", 10),
        finding("r1", "a.xml", "FR-1", "record", "B01", 12),
        finding("r1", "b.xml", "FR-1", "record", "B02", 3),
        finding("r2", "a.xml", "FR-1", "record", "B04", 10),
        finding("r1", "a.xml", None, "record", "S01", 20),
        finding("r1", "a.xml", float("nan"), "record", "S01", 21),
        finding("r1", "c.xml", None, "file", "F08", 5),
        finding("r1", "c.xml", "FR-9", "file", "F05", 1),
    ])
    entries = [{"run_id": run, "source": "s", "file_name": file, "record_id": rid,
                "level": level}
               for run in ("r1", "r2", "r3") for file in ("a.xml", "b.xml", "c.xml")
               for rid in ("FR-1", "FR-9", None, float("nan"))
               for level in ("record", "file")]
    by_entry = _findings_by_entry(findings)
    for entry in entries:
        assert _same(_entry_findings(entry, by_entry), _frame_selection(entry, findings)), entry
    assert [r["code"] for r in _entry_findings(entries[0], by_entry)] == ["S01", "B01"]
