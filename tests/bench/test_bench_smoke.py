"""The bench's machinery on a tiny workload, so the script cannot rot: every measured row and
every goal appears in the JSON, and the Markdown is written. No timing is asserted."""
from __future__ import annotations

import json

import pytest

from bench.__main__ import main
from bench.report import BEGIN, END

pytestmark = [pytest.mark.slow, pytest.mark.sshd, pytest.mark.postgres]

STAGES = ("plan", "fetch", "validation", "extraction", "bookkeeping", "load", "refresh", "publish")


def test_bench_writes_every_row(tmp_path, pg_server_url):
    results, doc = tmp_path / "latest.json", tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nhand-written text\n\n{BEGIN}\nSTALE-TABLE\n{END}\n\nafter\n")
    code = main(["--forms", "20", "--attachment-kb", "2", "--scales", "1,2", "--rounds", "2",
                 "--data-dir", str(tmp_path / "data"), "--results", str(results),
                 "--doc", str(doc), "--pg-url", pg_server_url])
    assert code == 0

    section = json.loads(results.read_text())["workloads"]["nightly"]
    keys = {r["key"] for r in section["rows"]}
    expected = {"x1.floor", "x1.naive", "x1.e2e", "x1.openssh_sftp", "x1.bare_copy",
                "x1.staged.total", "x2.floor", "x2.e2e", "x1.e2e_empty",
                "x1.imports", "x1.floor_after", "x2.floor_after", "x1.floor.round2",
                "x1.e2e.round2", "x1.floor_after.round2", "x1.e2e_empty.round2",
                "x1.imports.round2"} | {f"x1.stage.{s}" for s in STAGES}
    assert expected <= keys and "x2.e2e.round2" not in keys  # rounds at 1x only
    for row in section["rows"]:
        assert row["seconds"] >= 0 and row["maxrss_mb"] > 0, row
    e2e = next(r for r in section["rows"] if r["key"] == "x1.e2e")
    assert e2e["tree_mb"] > 0  # the process tree sampled (the run takes seconds)
    goals = {g["goal"] for g in section["goals"]}
    assert len(goals) == 8, goals
    assert any("empty night" in g for g in goals)
    # what the 2x goal needs of the machine, from the e2e runs' CPU on every core
    assert e2e["detail"]["machine_cpu_s"] >= e2e["detail"]["cpu_s"] * 0.9
    (bound,) = [g for g in section["goals"] if g["goal"].startswith("(what goal 6 needs)")]
    assert bound["value"] > 0 and "median of 2 rounds" in bound["measure"]
    (within,) = [g for g in section["goals"] if g["goal"] == "end to end within 2x the floor"]
    assert "median of 2 rounds" in within["measure"]
    assert section["profile"]["stage"] in ("plan", "ingest", "load", "refresh", "publish")
    assert section["profile"]["top"]
    assert {"cpu", "cores", "ram_gb", "python", "lxml"} <= set(section["machine"])
    assert section["inputs"]["x2"]["tracs_forms"] > section["inputs"]["x1"]["tracs_forms"]

    text = doc.read_text()
    assert "hand-written text" in text and "after" in text and "STALE-TABLE" not in text
    assert "x1.e2e" in text
    # scratch databases and run directories are gone
    assert not list((tmp_path / "data" / "runs").glob("*/landing"))


def test_bench_records_workload(tmp_path, pg_server_url):
    results = tmp_path / "latest.json"
    code = main(["--workload", "records", "--forms", "20", "--scales", "1,2", "--rounds", "2",
                 "--data-dir", str(tmp_path / "data"), "--results", str(results),
                 "--doc", "-", "--pg-url", pg_server_url])
    assert code == 0
    section = json.loads(results.read_text())["workloads"]["records"]
    rows = {r["key"]: r for r in section["rows"]}
    first = {"r1.floor", "r1.e2e", "r2.floor", "r2.e2e", "r1.floor_after", "r2.floor_after"}
    assert first | {f"{k}.round2" for k in first} == set(rows)
    assert all(rows[k]["detail"]["cpu_s"] > 0 for k in rows)
    assert [g["measure"].startswith("(e2e r2 - e2e r1)") for g in section["goals"]] == [True, True]
    assert "median of 2 rounds" in section["goals"][0]["measure"]


def test_e2e_ab_runs_both_trees_alternately(tmp_path, pg_server_url, capsys):
    """bench.e2e_ab on a view the records bench left (this tree against itself, as a directory:
    the test needs no git history)."""
    from bench import e2e_ab
    from bench.runner import REPO

    data = tmp_path / "data"
    assert main(["--workload", "records", "--forms", "10", "--scales", "1,2", "--rounds", "1",
                 "--no-naive", "--no-profile", "--data-dir", str(data),
                 "--results", str(tmp_path / "latest.json"), "--doc", "-",
                 "--pg-url", pg_server_url]) == 0
    assert e2e_ab.view_as_of(data / "views" / "r2") > e2e_ab.view_as_of(data / "views" / "r1")
    capsys.readouterr()
    assert e2e_ab.main(["r1", "--ref", str(REPO), "--rounds", "2", "--data-dir", str(data),
                        "--pg-url", pg_server_url]) == 0
    out = capsys.readouterr().out
    runs = [line.split(":")[0] for line in out.splitlines() if line.startswith("round ")]
    # ABBA: each tree once a round, the order turned every round
    assert runs == ["round 1 work tree", f"round 1 {REPO}", f"round 2 {REPO}",
                    "round 2 work tree"]
    assert "wall median" in out
