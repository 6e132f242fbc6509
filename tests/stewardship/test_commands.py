"""The steward sub-commands as `deflect` will run them."""

import argparse
import csv

from deflect.core.rules import CODES
from deflect.steward_cli import register
from tests.stewardship import fixtures


def run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="deflect")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_quarantine_list_show_mark(env, capsys):
    cfg = str(env.config.path)
    assert run("quarantine", "list", "--config", cfg, "--status", "open") == 0
    out = capsys.readouterr().out
    assert "q-0003" in out and "q-0005" not in out
    assert (
        run(
            "quarantine",
            "mark",
            "--config",
            cfg,
            "q-0003",
            "reviewed",
            "--note",
            "called SIEG",
            "--by",
            "carol",
        )
        == 0
    )
    assert "q-0003: reviewed by carol" in capsys.readouterr().out
    assert run("quarantine", "show", "--config", cfg, "q-0003") == 0
    out = capsys.readouterr().out
    assert "(reviewed)" in out and "carol  reviewed  called SIEG" in out
    for value in fixtures.personal_values():
        assert value not in out


def test_errors_are_one_line_with_status_2(env, capsys):
    cfg = str(env.config.path)
    assert run("quarantine", "show", "--config", cfg, "nope") == 2
    assert capsys.readouterr().err.strip() == "deflect: no quarantine entry 'nope'"


def test_findings_export(env, tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert (
        run(
            "findings",
            "export",
            "--config",
            str(env.config.path),
            "--run-id",
            fixtures.RUN2,
            "--source",
            "meg-sieg",
            "--output",
            str(out),
        )
        == 0
    )
    # the fixture writes one finding of every catalogue code: its six S/B record codes and every
    # W flag are meg-sieg's
    expected = 6 + sum(code.startswith("W") for code in CODES)
    assert f"{expected} findings of run" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == expected + 1


def test_findings_export_defaults_to_every_run(env, tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert run("findings", "export", "--config", str(env.config.path), "--output", str(out)) == 0
    assert "findings of every run" in capsys.readouterr().out
    runs = {r["run_id"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert runs == {fixtures.RUN1, fixtures.RUN2}  # not only the latest run's


def test_quarantine_export_status_all_gives_every_state(env, tmp_path, capsys):
    out = tmp_path / "q.csv"
    cfg = str(env.config.path)
    assert run("quarantine", "export", "--config", cfg, "--status", "all", "--output",
               str(out)) == 0
    states = {r["state"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert run("quarantine", "export", "--config", cfg, "--output", str(out)) == 0
    assert {r["state"] for r in csv.DictReader(out.open(encoding="utf-8"))} == {"open"}
    assert len(states) > 1 and "open" in states


def test_report_command_without_expectations(env, capsys):
    assert (
        run(
            "report",
            "--config",
            str(env.config.path),
            "--run-id",
            fixtures.RUN2,
            "--no-expectations",
        )
        == 0
    )
    path = capsys.readouterr().out.strip()
    assert path.endswith(f"{fixtures.RUN2}/index.html")
