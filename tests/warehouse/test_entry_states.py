"""One state per quarantine entry (migration 0014): `quality.quarantine`, the steward commands
and the validation report agree on every entry, on both backends; every steward command works
as the `deflect_steward` PostgreSQL role."""
import argparse
import csv
import datetime as dt
import hashlib
import re

import pytest

from deflect.core.rules import rule
from deflect.steward_cli import register
from stewardship import quarantine as q
from stewardship import report
from tests.fixtures.postgres import with_user
from tests.stewardship.fixtures import make_config
from tests.warehouse.conftest import reset
from warehouse import connect

R1, R2, R3 = "20261101T073000Z-aaaa0001", "20261102T073000Z-bbbb0002", "20261103T090000Z-rrrr0003"
MEG_FILE, TRACS_FILE = "CaseActivity_SIEG_20261102.xml", "TRACS_IL0849800_20261102T013004_0001.xml"
VERSION = "2026-10-01T08:00:00"


def _id(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


# entry -> the state every reader must show
EXPECTED = {
    _id("open"): "open",
    _id("reviewed"): "reviewed",
    _id("dismissed"): "dismissed",  # marked `resolved` by a steward: read as dismissed
    _id("superseded"): "superseded",
    _id("resolved"): "resolved",  # marked reviewed too: the load comes first
    _id("replayed"): "replayed",
    _id("replayed-copy"): "replayed",  # its own version reloaded by a replay
    _id("file"): "open",
    _id("file-redelivered"): "resolved",  # a file of the same name loaded the next night
    _id("file-replayed"): "replayed",  # a replay made for it loaded its corrected file
}
R4, R5 = "20261104T073000Z-dddd0004", "20261104T100000Z-rrrr0005"


def _fill(wh) -> None:
    reset(wh)
    for seq, run in ((1, R1), (2, R2), (3, R3), (4, R4), (5, R5)):
        wh.execute("INSERT INTO meta.load_audit (batch_id, load_seq, run_id, source, kind) "
                   "VALUES (?, ?, ?, 'meg-sieg', 'meg')", [f"b{seq}", seq, run])
        for source in ("meg-sieg", "tracs-isp"):
            wh.execute("INSERT INTO meta.load_run (run_id, source, as_of, status) "
                       "VALUES (?, ?, ?, 'ok')", [run, source, dt.date(2026, 11, seq)])
    meg = [  # label, record_id, status, resolved_run_id
        ("open", "SIEG/SIEG-2026-0001", "open", None),
        ("reviewed", "SIEG/SIEG-2026-0002", "open", None),
        ("dismissed", "SIEG/SIEG-2026-0003", "open", None),
        ("superseded", "SIEG/SIEG-2026-0004", "open", None),
        ("resolved", "SIEG/SIEG-2026-0005", "resolved", R2),
        ("replayed", "SIEG/SIEG-2026-0006", "resolved", R3),
        ("replayed-copy", "SIEG/SIEG-2026-0007", "open", None),
    ]
    for n, (label, record_id, status, resolved) in enumerate(meg, start=1):
        wh.execute(
            "INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
            "file_sha256, level, record_id, record_version, record_sha256, codes, line, status, "
            "resolved_run_id, load_seq) VALUES (?, ?, 'meg-sieg', 'meg', ?, ?, 'record', ?, ?, ?, "
            "'S01', ?, ?, ?, 2)",
            [_id(label), R2, MEG_FILE, "b" * 64, record_id, VERSION, _id(label + "-rec"),
             10 * n, status, resolved])
        wh.execute(
            "INSERT INTO meta.finding (run_id, source, file_name, file_sha256, record_id, code, "
            "level, line, message) VALUES (?, 'meg-sieg', ?, ?, ?, 'S01', 'record', ?, ?)",
            [R2, MEG_FILE, "b" * 64, record_id, 10 * n + 2, f"=bad {label}"])
    wh.execute(
        "INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
        "file_sha256, level, codes, status) VALUES (?, ?, 'tracs-isp', 'tracs', ?, ?, 'file', "
        "'F04', 'open')", [_id("file"), R2, TRACS_FILE, "c" * 64])
    wh.execute(
        "INSERT INTO meta.finding (run_id, source, file_name, file_sha256, code, level, message) "
        "VALUES (?, 'tracs-isp', ?, ?, 'F04', 'file', 'checksum')", [R2, TRACS_FILE, "c" * 64])
    # refused files: one delivered again under its name and loaded, one replayed for its entry
    for label, name, loaded_as, run, seq in (
            ("file-redelivered", "TRACS_IL0849800_20261102T013004_0002.xml", None, R4, 4),
            ("file-replayed", "TRACS_IL0849800_20261102T013004_0003.xml", "fixed.xml", R5, 5)):
        wh.execute(
            "INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
            "file_sha256, level, codes, status, load_seq) VALUES (?, ?, 'tracs-isp', 'tracs', ?, "
            "?, 'file', 'F08', 'open', 2)", [_id(label), R2, name, "d" * 64])
        wh.execute(
            "INSERT INTO meta.finding (run_id, source, file_name, file_sha256, code, level, "
            "message) VALUES (?, 'tracs-isp', ?, ?, 'F08', 'file', 'refused')",
            [R2, name, "d" * 64])
        wh.execute(
            "INSERT INTO meta.file_ledger_history (source, remote_name, status, run_id, "
            "batch_id, load_seq) VALUES ('tracs-isp', ?, 'loaded', ?, ?, ?)",
            [loaded_as or name, run, f"b{seq}", seq])
    wh.execute("INSERT INTO meta.replay (run_id, source, file_name, replay_of_run_id, entry_id) "
               "VALUES (?, 'tracs-isp', 'fixed.xml', ?, ?)", [R5, R2, _id("file-replayed")])
    # the same versions, valid, from other files: the night before, and a replay
    for record_id, seq in (("SIEG/SIEG-2026-0004", 1), ("SIEG/SIEG-2026-0007", 3)):
        wh.execute(
            "INSERT INTO staging.stg_meg__case (source, file_name, file_sha256, record_id, "
            "last_modified, batch_id, load_seq) VALUES ('meg-sieg', 'other.xml', ?, ?, ?, ?, ?)",
            ["a" * 64, record_id, dt.datetime.fromisoformat(VERSION), f"b{seq}", seq])
    wh.execute("INSERT INTO meta.replay (run_id, source, file_name, replay_of_run_id) "
               "VALUES (?, 'meg-sieg', ?, ?)", [R3, MEG_FILE, R2])
    marks = [("reviewed", "reviewed"), ("dismissed", "resolved"), ("resolved", "reviewed")]
    for n, (label, status) in enumerate(marks):
        wh.execute(
            "INSERT INTO quality.quarantine_review (quarantine_id, status, note, reviewed_by, "
            "reviewed_at) VALUES (?, ?, 'n', 'alice', ?)",
            [_id(label), status, dt.datetime(2026, 11, 2, 9, n, tzinfo=dt.UTC)])


def _config(tmp_path, url: str):
    return make_config(tmp_path, warehouse=url)


@pytest.fixture
def states_url(migrated_url):
    with connect(migrated_url) as wh:
        _fill(wh)
    return migrated_url


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="deflect")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_view_commands_and_report_agree_on_every_entry(states_url, tmp_path, capsys):
    with connect(states_url) as wh:
        view = dict(wh.query("SELECT quarantine_id, state FROM quality.quarantine"))
        run_data = report.read_run_data(wh, R2, tmp_path / "reports")
        html = report.section_quarantine(run_data, tmp_path / "landing")
        states_sql = dict(wh.query("SELECT quarantine_id, state_run_id FROM quality.quarantine"))
    assert view == EXPECTED
    assert states_sql[_id("superseded")] == R1 and states_sql[_id("replayed")] == R3
    assert states_sql[_id("file-redelivered")] == R4 and states_sql[_id("file-replayed")] == R5
    assert states_sql[_id("file")] is None

    config = _config(tmp_path, states_url)
    listed = q.list_entries(config)
    assert dict(zip(listed["quarantine_id"], listed["state"])) == EXPECTED

    assert cli("quarantine", "list", "--config", str(config.path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["id", "state"]
    shown = dict(line.split()[:2] for line in lines[1:])
    assert shown == {k[:12]: v for k, v in EXPECTED.items()}
    # aligned: every column starts where its header does
    assert {line.index(R2) for line in lines[1:]} == {lines[0].index("run")}

    for entry_id, state in EXPECTED.items():
        assert cli("quarantine", "show", "--config", str(config.path), entry_id[:8]) == 0
        assert f"quarantine entry {entry_id} ({state})" in capsys.readouterr().out

    badge = r'id="q-([0-9a-f]+)".*?<span class="badge (\w+)"'
    in_report = dict(re.findall(badge, html, re.DOTALL))
    assert in_report == EXPECTED
    # the replay run's page is labelled, with what it corrects
    with connect(states_url) as wh:
        assert report.replay_label(report.read_run_data(wh, R3, tmp_path).replay) == (
            f"replay of run {R2} for file {MEG_FILE}")


def test_open_only_counts_entries_still_open(states_url, tmp_path):
    config = _config(tmp_path, states_url)
    opened = q.list_entries(config, status="open")
    assert sorted(opened["quarantine_id"]) == sorted(k for k, v in EXPECTED.items() if v == "open")


def test_a_short_id_must_be_unique(states_url, tmp_path):
    config = _config(tmp_path, states_url)
    full = _id("reviewed")
    assert q.show_entry(config, full[:6])["entry"]["quarantine_id"] == full
    with pytest.raises(q.StewardError, match="an entry id is needed"):
        q.show_entry(config, "")
    with pytest.raises(q.StewardError, match="no quarantine entry"):
        q.show_entry(config, "zz")
    with connect(states_url) as wh:
        for entry_id in ("0a1b2c3d-1", "0a1b2c3d-2", "0a1_x"):
            wh.execute("INSERT INTO meta.quarantine (quarantine_id, source, level, status) "
                       "VALUES (?, 'meg-sieg', 'file', 'open')", [entry_id])
    with pytest.raises(q.StewardError, match="ambiguous") as err:
        q.show_entry(config, "0a1b2c3d")
    assert "0a1b2c3d-1, 0a1b2c3d-2" in str(err.value)
    # `_` in a prefix is a character, not a LIKE wildcard
    assert q.show_entry(config, "0a1_")["entry"]["quarantine_id"] == "0a1_x"


def test_export_open_entries_of_a_unit_across_runs(states_url, tmp_path):
    config = _config(tmp_path, states_url)
    out = tmp_path / "sieg.csv"
    n = q.export_entries_csv(config, out, unit="sieg", status="open")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert n == len(rows) == 1
    (row,) = rows
    assert list(row) == list(q.ENTRY_EXPORT_COLUMNS)
    assert (row["entry_id"], row["state"], row["unit"], row["code"]) == (
        _id("open"), "open", "SIEG", "S01")
    assert row["action"] == rule("S01").action and row["rule"] == rule("S01").message
    assert row["message"] == "'=bad open"  # formula neutralised
    q.export_entries_csv(config, out, unit="ISP", status="open")
    (row,) = list(csv.DictReader(out.open(encoding="utf-8")))
    assert (row["entry_id"], row["unit"], row["code"]) == (_id("file"), "ISP", "F04")
    assert q.export_entries_csv(config, out, unit="SIEG", status="superseded") == 1


@pytest.mark.postgres
def test_every_steward_command_works_as_the_steward_role(states_url, tmp_path, capsys):
    if not states_url.startswith("postgresql"):
        pytest.skip("roles exist on PostgreSQL only")
    config = _config(tmp_path, with_user(states_url, "deflect_steward"))
    cfg = str(config.path)
    assert cli("quarantine", "list", "--config", cfg, "--status", "open") == 0
    assert cli("quarantine", "show", "--config", cfg, _id("open")[:10]) == 0
    assert cli("quarantine", "mark", "--config", cfg, _id("open")[:10], "reviewed",
               "--by", "bob") == 0
    assert cli("findings", "export", "--config", cfg, "--run-id", R2,
               "--output", str(tmp_path / "f.csv")) == 0
    assert cli("quarantine", "export", "--config", cfg, "--unit", "SIEG",
               "--output", str(tmp_path / "q.csv")) == 0
    # every run's findings and entries of every state, the defaults a steward starts from
    assert cli("findings", "export", "--config", cfg, "--output", str(tmp_path / "all.csv")) == 0
    assert cli("quarantine", "export", "--config", cfg, "--status", "all",
               "--output", str(tmp_path / "q-all.csv")) == 0
    assert cli("report", "--config", cfg, "--run-id", R2, "--no-expectations") == 0
    captured = capsys.readouterr()
    assert "permission denied" not in (captured.out + captured.err).lower()
    with connect(states_url) as wh:
        assert wh.scalar("SELECT state FROM quality.quarantine WHERE quarantine_id = ?",
                         [_id("open")]) == "reviewed"
    import psycopg

    with connect(with_user(states_url, "deflect_analyst")) as wh, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        wh.query("SELECT * FROM quality.quarantine_state")
