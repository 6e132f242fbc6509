"""Every count of a night's pages comes from one definition (stewardship.tonight): the first
screen, the sources table, the entries page, the source pages and the runs index agree with
each other and with `deflect quarantine list`, on both backends."""

import argparse
import re

import pytest

from deflect.steward_cli import register
from stewardship.report import write_run_report
from stewardship.tonight import tonight
from tests.stewardship import nights
from tests.stewardship.fixtures import make_config
from tests.stewardship.nights import N2, N4
from tests.warehouse.conftest import migrated_url, reset  # noqa: F401 - the fixture
from warehouse import connect

NUM = r'(?:<b>)?(?:<a href="[^"]*">|<span class="muted">)?(\d+)'


@pytest.fixture
def config(migrated_url, tmp_path):  # noqa: F811 - the imported fixture
    with connect(migrated_url) as wh:
        reset(wh)
        nights.fill(wh)
    return make_config(tmp_path, warehouse=migrated_url)


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="deflect")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def carried_rows(html: str) -> int:
    """The entries the carried-over summary rows of a page count (their first number)."""
    return sum(int(re.search(r'<td class="num">(\d+)', row)[1])
               for row in html.split('<tr class="carried-row">')[1:])


def page_counts(folder) -> dict:
    """Each figure as every page of the night shows it."""
    html = (folder / "index.html").read_text(encoding="utf-8")
    first = html.split('id="night-counts"')[1].split("</p>")[0]
    new, carried, resolved = (int(n) for n in re.findall(r"<b>" + NUM[8:], first)[:3])
    open_now = int(re.search(r"(\d+) of the new and carried-over entries are open", first)[1])
    waiting = int(re.search(r"(\d+) reviewed and waiting", first)[1])
    table = html.split('id="sources-table"')[1].split("</table>")[0]
    total = table.split('<tr class="total">')[1]
    totals = [int(n) for n in re.findall(r'<td class="num">' + NUM, total)]
    rows = [r for r in table.split("<tr")[2:] if 'class="total"' not in r]
    per_source = [[int(n) for n in re.findall(r'<td class="num">' + NUM, r)] for r in rows]
    entries = (folder / "entries.html").read_text(encoding="utf-8")
    listed = {g: len(re.findall(rf'data-group="{g}"', entries))
              for g in ("new", "carried", "resolved", "arrived")}
    # carried-over entries are counted per source, level and codes rather than listed
    listed["carried"] += carried_rows(entries)
    headed = {g: int(re.search(rf'<section id="{g}" class="group"><h2>[^<]*\((\d+)\)',
                               entries)[1]) for g in listed}
    sources = {}
    for page in (folder / "sources").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        counts = text.split('id="source-counts"')[1].split("</p>")[0]
        tonight_records = int(re.search(r'id="quarantined-tonight">[^(]*\((\d+)\)', text)[1])
        sources[page.stem] = [int(n) for n in re.findall(r"<b>" + NUM[8:], counts)[:3]] + [
            tonight_records]
        summary = text.split('<section class="group" id="carried">')[1].split("</section>")[0]
        assert carried_rows(summary) == sources[page.stem][1]
    return {"new": new, "carried": carried, "resolved": resolved, "open": open_now,
            "waiting": waiting, "totals": totals, "per_source": per_source, "listed": listed,
            "headed": headed, "sources": sources}


@pytest.mark.parametrize("run_id", [N2, N4])
def test_a_nights_pages_agree_with_each_other_and_with_tonight(config, run_id):
    write_run_report(config, run_id)
    c = page_counts(config.report_dir / run_id)
    with connect(config.warehouse) as wh:
        t = tonight(wh, run_id)
    assert (c["new"], c["carried"], c["resolved"]) == (
        len(t.new), len(t.carried), len(t.resolved))
    # sources table: files seen, loaded, pending, duplicate, records loaded, then entries
    assert c["totals"][4:] == [sum(s.records_loaded for s in t.sources),
                               sum(s.records_quarantined for s in t.sources),
                               c["new"], c["carried"], c["resolved"]]
    assert [sum(col) for col in zip(*c["per_source"])] == c["totals"]
    assert c["listed"] == c["headed"]
    assert [c["listed"][g] for g in ("new", "carried", "resolved")] == [
        c["new"], c["carried"], c["resolved"]]
    assert {s: v[:3] for s, v in c["sources"].items()} == {
        s.source: [s.new, s.carried, s.resolved] for s in t.sources}
    assert sum(v[3] for v in c["sources"].values()) == c["totals"][5]
    assert c["open"] + c["waiting"] == c["new"] + c["carried"]


def test_the_newest_nights_pages_agree_with_the_steward_commands(config, capsys):
    write_run_report(config, N2)
    write_run_report(config, N4)
    c = page_counts(config.report_dir / N4)
    shown = {}
    for state in ("open", "reviewed"):
        assert cli("quarantine", "list", "--config", str(config.path), "--status", state) == 0
        lines = capsys.readouterr().out.splitlines()
        shown[state] = len([x for x in lines[1:] if x.strip()])
    assert (c["open"], c["waiting"]) == (shown["open"], shown["reviewed"]) == (2, 1)
    index = (config.report_dir / "index.html").read_text(encoding="utf-8")
    row = index.split(f'href="{N4}/index.html"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">' + NUM, row)[:3] == [
        str(c["new"]), str(c["carried"]), str(c["resolved"])]
    assert "needs attention" in row
    # the night before: N2's figures, not the newest night's, in its own row
    row2 = index.split(f'href="{N2}/index.html"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">' + NUM, row2)[:3] == ["2", "3", "1"]
    assert f'href="{N2}/entries.html?group=carried#carried">3<' in row2


def test_the_run_summary_shows_the_nights_verdict_and_entries(config):
    from deflect.core.runs import run_dir, write_json
    from deflect.summary import format_summary, summary

    write_json(run_dir(config, N4) / "run.json", {"run_id": N4, "as_of": "2026-11-03"})
    result = summary(config, N4)
    assert result["tonight"]["verdict"] == "needs attention"
    text = format_summary(result)
    assert ("Tonight: needs attention (quarantine entries: 0 new, 3 carried over, 2 resolved)"
            in text)
    assert "  1. 1 file(s) pending for 2 days or more" in text


@pytest.mark.parametrize("run_id", [N2, N4])
def test_the_night_the_report_hands_to_the_run_summary_is_the_one_derived_again(config, run_id):
    """`deflect run` takes the night's verdict from the report it has just written rather than
    deriving every entry's state a second time: both must be the same."""
    from deflect.core.runs import run_dir, write_json
    from deflect.summary import summary
    from stewardship.publish import publish_run

    write_json(run_dir(config, run_id) / "run.json", {"run_id": run_id, "as_of": "2026-11-03"})
    handed = publish_run(config, run_id, expectations=False)["tonight"]
    assert handed == summary(config, run_id)["tonight"]
    assert summary(config, run_id, night=handed)["tonight"] == handed
