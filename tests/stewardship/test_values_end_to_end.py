"""End to end over a generated drop with defects, on both backends: an S01 finding shows the
value that is wrong when its field is not personal, and masks it when it is (a birth date made
invalid by hand), in the warehouse's findings, `quarantine show`, the unit's CSV export and the
report; excerpts are centred on the error line, numbered as in the delivered file. And every MEG
record entry whose version loaded validly from another file is `superseded`."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from deflect import pipeline
from deflect.configuration import load_config
from deflect.steward_cli import register
from generator.config import GeneratorConfig
from generator.generate import generate
from stewardship.masking import MASK
from warehouse import connect

# the value each generated S01 defect puts in a field that is not personal
S01_VALUES = {"incidentType": "DRUGS", "sex": "male", "Pathway 6": "6"}


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    out = tmp_path_factory.mktemp("values") / "drop"
    cfg = GeneratorConfig(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 10), seed=11,
                          forms_per_day=6, attachment_kb=1, defect_rate=0.3,
                          pending_at_end=False)
    manifest = generate(cfg, out)
    return out, manifest, _break_a_birth_date(out)


def _break_a_birth_date(out: Path) -> dict:
    """A real birth date in the newest MEG file made invalid (a letter added): an S01 on a
    personal field, whose value must never be shown. The .done marker is written again after
    the change, as a producer re-sending a corrected file does."""
    path = max((out / "meg").rglob("CaseActivity_*.xml"))
    raw = path.read_bytes()
    m = re.search(rb"<BirthDate>(\d{4}-\d{2}-\d{2})</BirthDate>", raw)
    assert m, path
    line = raw[: m.start()].count(b"\n") + 1
    path.write_bytes(raw[: m.start(1)] + m.group(1) + b"x" + raw[m.end(1):])
    done = path.with_name(path.name + ".done")
    later = path.stat().st_mtime + 1
    done.touch()
    os.utime(done, (later, later))
    return {"file": path.name, "unit": path.parent.name, "line": line,
            "birth_date": m.group(1).decode()}


def _config(drop_dir: Path, work: Path, url: str):
    data = yaml.safe_load((drop_dir / "deflect.yaml").read_text(encoding="utf-8"))
    for s in data["sources"]:
        s["url"] = "file://" + str((drop_dir / s["url"].split(":", 1)[1]).resolve())
    data.update(warehouse=url, landing_dir=str(work / "landing"), work_dir=str(work / "work"),
                report_dir=str(work / "reports"))
    path = work / "deflect.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_config(path)


def _cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="deflect")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def _personal(drop_dir: Path) -> list[str]:
    people = json.loads((drop_dir / "people.json").read_text(encoding="utf-8"))
    return sorted({v for p in people for k in ("last", "first", "birth_date")
                   if (v := p.get(k)) and len(v) > 3})


@pytest.mark.slow
def test_values_shown_masked_and_superseded_over_a_generated_run(drop, tmp_path, warehouse_url,
                                                                  capsys):
    drop_dir, manifest, broken = drop
    given = "duckdb:///warehouse.duckdb" if warehouse_url.startswith("duckdb:") else warehouse_url
    config = _config(drop_dir, tmp_path, given)
    result = pipeline.run(config, as_of=dt.date.fromisoformat(manifest["as_of"]), publish=False)
    run_id = result["run_id"]
    report = Path(pipeline.report(config, run_id, expectations=False)["report"])

    with connect(config.warehouse, read_only=True) as wh:
        findings = wh.read_frame(
            "select source, file_name, record_id, code, line, message from quality.finding "
            "where code = 'S01'").to_dict(orient="records")
        entries = wh.read_frame(
            "select quarantine_id, source, file_name, level, record_id, record_version, state "
            "from quality.quarantine").to_dict(orient="records")
        loaded = {(r, str(v), f) for r, v, f in wh.query(
            "select record_id, last_modified, file_name from staging.stg_meg__case")}

    # 1. a generated S01 on a field that is not personal shows the value that is wrong
    s01 = [d for d in manifest["defects"] if d["code"] == "S01" and d["what"] in S01_VALUES]
    assert s01, "the drop has S01 defects on coded fields"
    for d in s01:
        messages = [f["message"] for f in findings if f["record_id"] == d["record_id"]]
        assert any(f"'{S01_VALUES[d['what']]}'" in m for m in messages), (d, messages)

    # 2. the birth date made invalid is masked wherever the finding is shown
    (bad,) = [f for f in findings if f["file_name"] == broken["file"]
              and f["line"] == broken["line"]]
    assert "BirthDate" in bad["message"] and f"'{MASK}'" in bad["message"]
    assert broken["birth_date"] not in bad["message"]
    (entry,) = [e for e in entries if e["file_name"] == broken["file"]
                and e["record_id"] == bad["record_id"]]

    assert _cli("quarantine", "show", "--config", str(config.path),
                entry["quarantine_id"][:12]) == 0
    shown = capsys.readouterr().out
    marked = [ln for ln in shown.splitlines() if ln.startswith(">")]
    assert marked and marked[0].lstrip(">").split("|")[0].strip() == str(broken["line"])
    # a whole case is one line of the generated file: shown around the field in error
    assert f"<BirthDate>{MASK}</BirthDate>" in marked[0]
    assert "value: [masked]" in shown

    out = tmp_path / "unit.csv"
    assert _cli("quarantine", "export", "--config", str(config.path), "--unit", broken["unit"],
                "--status", "all", "--output", str(out)) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    (row,) = [r for r in rows if r["entry_id"] == entry["quarantine_id"]]
    assert (row["code"], row["line"], row["value"]) == ("S01", str(broken["line"]), MASK)
    assert row["action"] and row["rule"] and row["file_name"] == broken["file"]
    meg_s01 = [d for d in s01 if d["what"] == "Pathway 6" and d["record_id"].startswith(
        broken["unit"] + "/")]
    for d in meg_s01:
        assert any(r["record_id"] == d["record_id"] and r["value"] == "6" for r in rows), d

    # 3. the report (the run's page, its entries and its source pages) shows a coded value and
    # no personal data; its excerpts are centred
    html = "\n".join(p.read_text(encoding="utf-8")
                     for p in sorted(Path(report).parent.rglob("*.html")))
    assert any(f"&#x27;{S01_VALUES[d['what']]}&#x27;" in html for d in s01)
    for value in _personal(drop_dir):
        assert value not in html and value not in shown, value
    assert f'<span class="hit"><span class="ln">{broken["line"]}</span>' in html or \
        entry["quarantine_id"] not in html  # the report details the run's own entries only

    # 4. defect 3: a MEG record version loaded validly from another file is superseded
    meg = [e for e in entries if e["level"] == "record" and e["source"].startswith("meg")]
    checked = 0
    for e in meg:
        copies = {(r, v, f) for r, v, f in loaded if r == e["record_id"]
                  and f != e["file_name"] and v.replace(" ", "T") == str(e["record_version"])}
        if e["state"] in ("open", "superseded"):
            assert (e["state"] == "superseded") == bool(copies), e
            checked += 1
    assert checked and any(e["state"] == "superseded" for e in meg)
