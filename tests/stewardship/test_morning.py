"""A steward's morning, as docs/stewards.md walks through it, on a generated night: read the
verdict, export a unit's open entries, replay a corrected file, see the entry resolved in the
next night's report."""

import argparse
import csv
import datetime as dt
import re

import pytest

from deflect.steward_cli import register
from stewardship import quarantine as q
from tests.stewardship.test_generated import _drop

pytestmark = pytest.mark.slow


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="deflect")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def corrected(raw: bytes, case_number: str) -> bytes:
    """The file with the case's stray deflection given to a subject of the case that has none
    (B03: a Deflection/@SubjectId not among the case's subjects); every other byte kept."""
    lines = raw.split(b"\n")
    for i, line in enumerate(lines):
        if f'CaseNumber="{case_number}"'.encode() not in line:
            continue
        subjects = re.findall(rb'<Subject SubjectId="(\d+)"', line)
        taken = set(re.findall(rb'<Deflection SubjectId="(\d+)"', line))
        free = ([s for s in subjects if s not in taken] or subjects)[0]
        for stray in taken - set(subjects):
            line = line.replace(b'<Deflection SubjectId="' + stray + b'"',
                                b'<Deflection SubjectId="' + free + b'"')
        lines[i] = line
    return b"\n".join(lines)


def test_read_export_replay_and_see_it_resolved(tmp_path, capsys):
    from deflect import pipeline
    from deflect.configuration import load_config

    out = tmp_path / "out"
    manifest = _drop(out, pending_at_end=False)
    config = load_config(out / "deflect.yaml")
    as_of = dt.date.fromisoformat(manifest["as_of"])
    night1 = pipeline.run(config, as_of=as_of)
    cfg = str(config.path)

    # 1. the verdict, on the first screen of the night's report
    page = (config.report_dir / night1["run_id"] / "index.html").read_text(encoding="utf-8")
    assert 'id="verdict">Tonight: needs attention<' in page

    # 2. a unit's open entries, exported for its records desk
    entries = q.list_entries(config, status="open")
    b03 = entries[(entries["codes"] == "B03") & entries["source"].str.startswith("meg-")]
    entry = b03.iloc[0].to_dict()
    unit = q.unit_of(config, entry["source"])
    export = tmp_path / f"{unit}.csv"
    assert cli("quarantine", "export", "--config", cfg, "--unit", unit, "--status", "open",
               "--output", str(export)) == 0
    rows = [r for r in csv.DictReader(export.open(encoding="utf-8"))
            if r["entry_id"] == entry["quarantine_id"]]
    assert rows and rows[0]["code"] == "B03" and rows[0]["line"] and rows[0]["action"]

    # 3. the unit sends the file back corrected; it is replayed for the entry
    drop_file = next(out.glob(f"meg/*/{entry['file_name']}"))
    case = entry["record_id"].split("/", 1)[1]
    fixed = tmp_path / "corrected" / entry["file_name"]
    fixed.parent.mkdir()
    fixed.write_bytes(corrected(drop_file.read_bytes(), case))
    assert fixed.read_bytes() != drop_file.read_bytes()
    capsys.readouterr()
    assert cli("replay", "--config", cfg, "--source", entry["source"], "--entry",
               entry["quarantine_id"][:10], str(fixed)) == 0
    said = capsys.readouterr().out
    assert f"replay of run {night1['run_id']} for entry {entry['quarantine_id'][:12]}" in said
    (state,) = q.list_entries(config)[lambda f: f["quarantine_id"] == entry["quarantine_id"]][
        "state"]
    assert state == "replayed"

    # 4. the next night's report counts it resolved, and its unit's page lists it so
    night2 = pipeline.run(config, as_of=as_of + dt.timedelta(days=1))
    folder = config.report_dir / night2["run_id"]
    page = (folder / "index.html").read_text(encoding="utf-8")
    first = page.split('id="night-counts"')[1].split("</p>")[0]
    assert re.search(r'<a href="entries.html\?group=resolved#resolved">\d+</a></b> resolved',
                     first)
    source_page = (folder / "sources" / f"{entry['source']}.html").read_text(encoding="utf-8")
    resolved = source_page.split('<section class="group" id="resolved">')[1].split(
        "</section>")[0]
    block = resolved.split(f'id="q-{entry["quarantine_id"]}"')[1]
    assert '<span class="badge replayed">replayed</span>' in block.split("</h3>")[0]
