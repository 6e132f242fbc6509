"""A night of a hundred thousand entries (a first backfill) must not make a page of them: the
entries page lists at most MAX_ENTRIES_LISTED a group and says how many more, entries.csv holds
every one, and a source page's "quarantined tonight" ids are capped alike; on both backends."""

import csv
import re

import pytest

from stewardship import report
from stewardship import tonight as tonight_
from tests.stewardship.fixtures import make_config
from tests.stewardship.nights import RUNS
from warehouse import connect


def _shown_ids(url, run_id):
    """The night's entries the page shows (not the carried-over ones), by group."""
    with connect(url) as wh:
        night = tonight_.read_night(wh, run_id)
    e = night.entries
    new, carried, resolved = tonight_._lists(e, run_id)
    return {"all": set(e[~carried & ((e["night"] == run_id) | resolved)]["quarantine_id"]),
            "new": set(e[new]["quarantine_id"]), "resolved": set(e[resolved]["quarantine_id"])}


def _rows(page: str, group: str) -> list[str]:
    section = page.split(f'<section id="{group}" class="group">')[1].split("</section>")[0]
    return re.findall(r'<tr class="entry-row"[^>]*><td><a href="[^"]*#q-([0-9a-f]+)"', section)


@pytest.mark.parametrize("run_id", RUNS)
def test_entries_csv_holds_every_entry_the_page_shows_or_counts(url, tmp_path, run_id,
                                                                monkeypatch):
    config = make_config(tmp_path, warehouse=url)
    report.write_run_report(config, run_id)
    folder = config.report_dir / run_id
    page = (folder / "entries.html").read_text(encoding="utf-8")
    with open(folder / "entries.csv", encoding="utf-8", newline="") as fh:
        listed = list(csv.DictReader(fh))
    ids = _shown_ids(url, run_id)
    assert {r["quarantine_id"] for r in listed} == ids["all"]
    assert len(listed) == len(ids["all"])
    assert {r["group"] for r in listed} <= {"new", "resolved", "arrived"}
    uncapped = {g: _rows(page, g) for g in ("new", "resolved")}
    for g in ("new", "resolved"):
        assert set(uncapped[g]) == ids[g]
        assert [r["quarantine_id"] for r in listed if r["group"] == g] == uncapped[g]
    assert "more, not listed here" not in page

    monkeypatch.setattr(report, "MAX_ENTRIES_LISTED", 1)
    report.write_run_report(config, run_id)
    page = (folder / "entries.html").read_text(encoding="utf-8")
    with open(folder / "entries.csv", encoding="utf-8", newline="") as fh:
        assert list(csv.DictReader(fh)) == listed  # the file is not capped
    for g in ("new", "resolved"):
        assert _rows(page, g) == uncapped[g][:1]
        more = len(ids[g]) - 1
        assert (f"and {more:,} more, not listed here" in page) == (more > 0)
    for source_page in (folder / "sources").glob("*.html"):
        text = source_page.read_text(encoding="utf-8")
        total = int(re.search(r"Records quarantined tonight \((\d+)\)", text)[1])
        shown = re.search(r'id="quarantined-tonight".*?(?:<p class="ids">(.*?)</p>|none)', text,
                          re.DOTALL)[1] or ""
        assert shown.count('class="code"') == min(total, 1)
        assert (f"and {total - 1:,} more" in shown) == (total > 1)


def test_some_night_has_more_than_one_entry_in_a_group(url):
    """What the cap test above relies on to mean something."""
    assert any(len(_shown_ids(url, r)["new"]) > 1 for r in RUNS)
