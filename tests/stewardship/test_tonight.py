"""The night's figures (stewardship.tonight) on both backends: new, carried over and resolved
against the previous night, the verdict, pending files, the things to do, per source."""

import datetime as dt

import pytest

from stewardship import quarantine as q
from stewardship.tonight import PendingFile, SourceTonight, tonight
from tests.stewardship import nights
from tests.stewardship.fixtures import make_config
from tests.stewardship.nights import N1, N2, N4, R3, eid
from tests.warehouse.conftest import reset
from warehouse import connect


def ids(*labels):
    return sorted(eid(label) for label in labels)



@pytest.fixture
def wh(url):
    with connect(url) as w:
        yield w


def test_a_failed_source_fails_the_night(wh):
    t = tonight(wh, N1)
    assert (t.run_id, t.as_of, t.verdict) == (N1, dt.date(2026, 11, 1), "failed")
    assert t.new == ids("f04", "fixed", "looked", "dropped")
    assert t.carried == [] and t.resolved == []
    assert t.todo[0].startswith("Find out why tracs-isp failed")


def test_second_night_new_carried_resolved_and_superseded_on_arrival(wh):
    t = tonight(wh, N2)
    assert t.verdict == "needs attention"
    # `corrected` is resolved only by the later replay; `copy` never needed anyone
    assert t.new == ids("open", "corrected")
    assert t.carried == ids("f04", "looked", "dropped")
    assert t.resolved == ids("fixed")
    meg = next(s for s in t.sources if s.source == "meg-sieg")
    assert meg == SourceTonight("meg-sieg", files_loaded=2, records_loaded=40,
                                records_quarantined=3, new=2, carried=2, resolved=1)
    assert "2 record(s) quarantined tonight (B03, S01 ×2)" in " ".join(t.todo)


def test_a_replay_resolves_against_the_night_before_it(wh):
    t = tonight(wh, R3)
    assert t.new == [] and t.resolved == ids("corrected")
    assert t.carried == ids("f04", "looked", "dropped", "open")


def test_third_night_counts_against_the_previous_night_not_the_replay(wh):
    t = tonight(wh)  # the newest run
    assert t.run_id == N4 and t.as_of == dt.date(2026, 11, 3)
    assert t.new == []
    assert t.carried == ids("f04", "looked", "open")
    # the replay's correction and the morning's dismissal, both since N2
    assert t.resolved == ids("corrected", "dropped")
    assert t.pending == [PendingFile("meg-sieg", nights.PENDING_FILE, 5, t.pending[0].reason)]
    assert t.verdict == "needs attention"
    assert len(t.todo) == 2
    assert t.todo[0].startswith("1 file(s) pending for 2 days or more")
    assert t.todo[1].startswith("2 entries carried over and never looked at")
    tracs = next(s for s in t.sources if s.source == "tracs-isp")
    assert (tracs.new, tracs.carried, tracs.resolved, tracs.records_quarantined) == (0, 1, 0, 0)


def test_an_older_night_keeps_its_figures_after_later_marks_and_loads(wh):
    before = tonight(wh, N2)
    nights.mark(wh, "open", "dismissed", nights.at(N4, 5))
    assert tonight(wh, N2) == before


def test_the_night_is_ok_once_every_entry_is_closed_or_waiting_on_its_source(wh):
    for label in ("f04", "open"):
        nights.mark(wh, label, "reviewed", nights.at(N4, 4))
    wh.execute("DELETE FROM meta.file_ledger WHERE status = 'pending'")
    t = tonight(wh)
    assert t.verdict == "OK" and t.todo == []
    assert t.carried == ids("f04", "looked", "open")  # still there, waiting on the sources


def test_figures_agree_with_the_steward_commands(url, tmp_path):
    with connect(url) as wh:
        t = tonight(wh)
    config = make_config(tmp_path, warehouse=url)
    listed = q.list_entries(config)
    waiting = listed[listed["state"].isin(["open", "reviewed"])]
    assert sorted(t.new + t.carried) == sorted(waiting["quarantine_id"])
    opened = q.list_entries(config, status="open")
    assert sorted(opened["quarantine_id"]) == ids("f04", "open")


def test_an_unknown_run_is_refused_and_an_empty_warehouse_fails(wh):
    with pytest.raises(ValueError, match="no run"):
        tonight(wh, "20990101T000000Z-nope")
    reset(wh)
    t = tonight(wh)
    assert (t.run_id, t.verdict) == (None, "failed") and t.todo


@pytest.mark.postgres
def test_the_steward_role_reads_the_night(url):
    if not url.startswith("postgresql"):
        pytest.skip("roles exist on PostgreSQL only")
    from tests.fixtures.postgres import with_user

    with connect(url) as wh:
        expected = tonight(wh)
    with connect(with_user(url, "deflect_steward"), read_only=True) as wh:
        assert tonight(wh) == expected
