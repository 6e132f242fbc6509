"""Steward commands: list, show, mark (audit trail), findings export."""

import csv
import datetime as dt

import pytest

from adapters.registry import field_classes
from deflect.core.rules import CODES, message
from stewardship import quarantine as q
from stewardship.masking import MASK
from tests.stewardship import fixtures


def test_list_entries_with_filters_and_status(env):
    all_entries = q.list_entries(env.config)
    assert sorted(all_entries["quarantine_id"]) == [
        "q-0001",
        "q-0002",
        "q-0003",
        "q-0004",
        "q-0005",
    ]
    status = dict(zip(all_entries["quarantine_id"], all_entries["status"]))
    assert status.pop("q-0005") == "resolved"  # a later version of the record loaded
    assert set(status.values()) == {"open"}
    resolved = q.list_entries(env.config, status="resolved")
    assert resolved["state_by"].tolist() == [f"load of run {fixtures.RUN2}"]
    assert sorted(q.list_entries(env.config, run_id=fixtures.RUN1)["quarantine_id"]) == [
        "q-0001",
        "q-0005",
    ]
    assert q.list_entries(env.config, source="meg-sieg", status="open")[
        "quarantine_id"
    ].tolist() == ["q-0003"]
    text = q.format_entries(all_entries)
    assert "q-0003" in text and "SIEG/SIEG-2026-0412" in text
    with pytest.raises(q.StewardError):
        q.list_entries(env.config, status="closed")


def test_mark_keeps_an_audit_trail_and_the_latest_mark_is_the_status(env):
    t1 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    t2 = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)
    q.mark(env.config, "q-0003", "reviewed", note="asked SIEG to resend", who="alice", when=t1)
    # `resolved` as a mark is taken as `dismissed`: `resolved` is what a later version's load does
    q.mark(env.config, "q-0003", "resolved", note="not a real case", who="bob", when=t2)
    detail = q.show_entry(env.config, "q-0003")
    trail = [(r["reviewed_by"], r["status"], r["note"]) for r in detail["reviews"]]
    assert trail == [
        ("alice", "reviewed", "asked SIEG to resend"),
        ("bob", "dismissed", "not a real case"),
    ]
    assert "q-0003" in q.list_entries(env.config, status="dismissed")["quarantine_id"].tolist()
    assert "q-0003" not in q.list_entries(env.config, status="resolved")["quarantine_id"].tolist()
    assert "q-0003" not in q.list_entries(env.config, status="open")["quarantine_id"].tolist()


def test_mark_defaults_to_the_current_user_and_now(env, monkeypatch):
    monkeypatch.setenv("USER", "steward1")
    before = dt.datetime.now(dt.UTC)
    got = q.mark(env.config, "q-0002", "reviewed")
    assert got["reviewed_by"] == "steward1"
    assert dt.datetime.fromisoformat(got["reviewed_at"]) >= before


def test_mark_rejects_unknown_entries_and_statuses(env):
    with pytest.raises(q.StewardError, match="no quarantine entry"):
        q.mark(env.config, "q-9999", "reviewed")
    with pytest.raises(q.StewardError, match="status"):
        q.mark(env.config, "q-0002", "open")


def test_show_entry_has_findings_masked_excerpt_and_rule_messages(env):
    detail = q.show_entry(env.config, "q-0004", fields=field_classes())
    assert [f["code"] for f in detail["findings"]] == ["B01"]
    assert "1990-06-17" not in detail["findings"][0]["message"]
    assert detail["findings"][0]["rule"] == message("B01")
    # numbered as in the delivered file: the record starts at line 100, the finding is at 108
    excerpt = detail["excerpts"][0]
    assert excerpt["line"] == 108 and not excerpt["beyond"]
    lines = {r["n"]: r["text"] for r in excerpt["rows"]}
    assert [r["n"] for r in excerpt["rows"] if r["hit"]] == [108]
    assert lines[108].strip() == "<individualDisposition>CD</individualDisposition>"
    assert lines[107].strip() == f"<individualDOB>{MASK}</individualDOB>"
    text = q.format_entry(detail)
    assert ">    108 |" in text and "review trail: none" in text
    for value in fixtures.personal_values():
        assert value not in text


def test_export_findings_csv_has_every_finding_with_rule_and_no_personal_data(env, tmp_path):
    out = tmp_path / "out" / "findings.csv"
    n = q.export_findings_csv(env.config, fixtures.RUN2, out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert n == len(rows) == len(CODES) + 1
    assert {r["code"] for r in rows} == set(CODES)
    assert list(rows[0]) == list(q.EXPORT_COLUMNS)
    assert all(r["rule"] == message(r["code"]) for r in rows)
    raw = out.read_text(encoding="utf-8")
    for value in fixtures.personal_values():
        assert value not in raw
    only = q.export_findings_csv(env.config, fixtures.RUN2, tmp_path / "t.csv", source="tracs-isp")
    # every file code (the fixture gives them all to the TraCS file) and the TraCS record's B01
    assert only == sum(c.startswith("F") for c in CODES) + 1


@pytest.mark.parametrize("value, cell", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("+1", "'+1"), ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("plain", "plain"), (None, ""), (7, "7"),
])
def test_spreadsheet_formulas_are_neutralised(value, cell):
    assert q.spreadsheet_safe(value) == cell
