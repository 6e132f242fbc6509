"""Carried-over entries on a night's pages, on both backends: the night reads only the entries it
shows one by one, and counts the carried-over ones in the warehouse per source, level and codes,
with the commands and the query that list every one of them, instead of detailing each on every
night."""

import argparse
import html
import re

import pytest

from deflect.steward_cli import register
from stewardship import data
from stewardship import tonight as tonight_
from stewardship.report import write_run_report
from tests.stewardship.fixtures import make_config
from tests.stewardship.nights import N1, N2, N4, RUNS, eid
from warehouse import connect


def every_entry_grouped(wh, run_id: str) -> dict[str, list[str]]:
    """The night's groups worked out from every entry of the warehouse, each one's state as of
    the run and as of the previous night derived in Python (what the night read before)."""
    runs = data.run_ids(wh)
    replays = set(data.replays(wh)["run_id"].astype(str))
    previous = max((r for r in runs if r < run_id and r not in replays), default=None)

    def marks_before(r):
        later = [x for x in runs if x > r]
        return tonight_.run_started(later[0]) if later else None

    e = data.quarantine(wh)
    e["night"] = e["run_id"].astype(str)
    e = e[e["night"] <= run_id].reset_index(drop=True)
    rows = e.to_dict(orient="records")
    e["state_then"] = [tonight_.state_as_of(r, run_id, marks_before(run_id)) for r in rows]
    e["state_before"] = [
        tonight_.state_as_of(r, previous, marks_before(previous))
        if previous and r["night"] <= previous else None for r in rows]
    new, carried, resolved = tonight_._lists(e, run_id)
    arrived = (e["night"] == run_id) & ~new
    return {name: sorted(e[mask]["quarantine_id"])
            for name, mask in (("new", new), ("carried", carried), ("resolved", resolved),
                               ("arrived", arrived))}


def groups_of(night: tonight_.Night) -> dict[str, list[str]]:
    e = night.entries
    new, carried, resolved = tonight_._lists(e, night.tonight.run_id)
    assert not carried.any()  # counted, never read out
    arrived = (e["night"] == night.tonight.run_id) & ~new
    groups = {name: sorted(e[mask]["quarantine_id"])
              for name, mask in (("new", new), ("resolved", resolved), ("arrived", arrived))}
    return {**groups, "carried": sorted(i for ids in night.carried["ids"] for i in ids)}


def states_then(wh, run_id: str) -> dict[str, str]:
    """Every entry's state as of the run, derived in Python (tonight.state_as_of)."""
    runs = data.run_ids(wh)
    later = [x for x in runs if x > run_id]
    until = tonight_.run_started(later[0]) if later else None
    e = data.quarantine(wh)
    return {r["quarantine_id"]: tonight_.state_as_of(r, run_id, until)
            for r in e.to_dict(orient="records")}


@pytest.mark.parametrize("run_id", RUNS)
def test_a_night_reads_only_what_it_shows_and_groups_it_as_from_every_entry(url, run_id):
    with connect(url) as wh:
        expected = every_entry_grouped(wh, run_id)
        night = tonight_.read_night(wh, run_id)
        assert groups_of(night) == expected
        assert (night.tonight.new, night.tonight.carried, night.tonight.resolved) == (
            expected["new"], expected["carried"], expected["resolved"])
        # the carried-over entries' states as the warehouse counted them (tonight.state_sql)
        # are those state_as_of derives
        states = states_then(wh, run_id)
        for state, ids in zip(night.carried["state_then"], night.carried["ids"], strict=True):
            assert {states[i] for i in ids} == {state}
        assert night.carried["entries"].tolist() == [len(ids) for ids in night.carried["ids"]]


def test_entries_a_load_closed_before_the_previous_night_are_not_read(url):
    with connect(url) as wh:
        # `fixed` (N1) was resolved by N2's load: closed as of N2, the night before N4
        night = tonight_.read_night(wh, N4)
        read = set(night.entries["quarantine_id"])
        counted = {i for ids in night.carried["ids"] for i in ids}
        assert eid("fixed") not in read | counted
        # the carried-over ones are counted, not read out
        assert {eid("f04"), eid("looked"), eid("open")} <= counted
        assert not counted & read
        # the trend counts N1's entries whatever their state, in the warehouse
        trend = data.entry_counts(wh, [N1])
        assert trend["entries"].sum() == len(data.quarantine(wh, run_id=N1))
        # N2's own night still sees it resolved
        assert tonight_.read_night(wh, N2).tonight.resolved == [eid("fixed")]


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="deflect")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_carried_over_entries_are_counted_and_listed_by_the_query_the_page_gives(
        url, tmp_path, capsys):
    config = make_config(tmp_path, warehouse=url)
    write_run_report(config, N4)
    folder = config.report_dir / N4
    with connect(url) as wh:
        t = tonight_.tonight(wh, N4)
    assert len(t.carried) == 3  # f04, looked (reviewed), open
    entries = (folder / "entries.html").read_text(encoding="utf-8")
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (folder / "sources").glob("*.html")}
    for text in (entries, *pages.values()):
        for qid in t.carried:  # not detailed, nor a row of the entries table
            assert f"q-{qid}" not in text and f">{qid[:12]}<" not in text
    queries = {}
    for name, text in {"entries": entries, **pages}.items():
        section = text.split('id="carried"')[1].split("</section>")[0]
        rows = [re.findall(r'<td class="num">(\d+)</td>', r)[:2]
                for r in section.split('<tr class="carried-row">')[1:]]
        mine = [s for s in t.sources if name in ("entries", s.source)]
        assert sum(int(n) for n, _ in rows) == sum(s.carried for s in mine)
        # `looked` is marked reviewed: waiting on its source
        waiting = 1 if name in ("entries", "meg-sieg") else 0
        assert sum(int(w) for _, w in rows) == waiting
        found = re.search(r'<p class="query"><span class="code">([^<]*)</span>', section)
        queries[name] = html.unescape(found[1])
    with connect(url) as wh:
        for name, query in queries.items():
            listed = sorted(r[0] for r in wh.query(query))
            mine = [s.source for s in t.sources if name in ("entries", s.source)]
            expected = sorted(
                i for i in t.carried
                if data.quarantine(wh, quarantine_id=i)["source"].iloc[0] in mine)
            assert listed == expected, name
    # the commands the pages give list them too (with tonight's new entries, none on N4)
    shown = ""
    for status in ("open", "reviewed"):
        assert cli("quarantine", "list", "--config", str(config.path), "--status", status) == 0
        shown += capsys.readouterr().out
    assert all(qid[:12] in shown for qid in t.carried)
