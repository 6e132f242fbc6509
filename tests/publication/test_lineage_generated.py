"""quality.lineage and `deflect explain` over a generated month run through the pipeline: every
counted deflection is explained by the records of each source reporting it, each found in its
file at the line given, and the output names no person."""
from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from deflect import pipeline
from deflect.cli import main
from deflect.configuration import load_config
from generator import GeneratorConfig, generate
from tests.test_ground_truth import _config
from warehouse import connect

pytestmark = pytest.mark.slow

MONTH = GeneratorConfig(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30), seed=17,
                        forms_per_day=12, attachment_kb=1, large_attachments=0,
                        defect_rate=0.03)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    drop = tmp_path_factory.mktemp("drop")
    manifest = generate(MONTH, drop)
    work = tmp_path_factory.mktemp("work")
    path = _config(drop, work, "duckdb:///warehouse.duckdb")
    config = load_config(path)
    result = pipeline.run(config, as_of=dt.date.fromisoformat(manifest["as_of"]), publish=False)
    assert not result["failed_sources"]
    with connect(config.warehouse, read_only=True) as wh:
        deflections = wh.read_frame("SELECT deflection_id, sources FROM reporting.deflection")
        lineage = wh.read_frame("SELECT * FROM quality.lineage")
    return drop, manifest, path, deflections, lineage


def _lines(path):
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace").splitlines()


def test_every_counted_deflection_is_explained_by_each_source_reporting_it(run):
    _, manifest, _, deflections, lineage = run
    assert len(deflections) > 20
    expected = {d: s.count("+") + 1 for d, s in deflections.itertuples(index=False)}
    assert lineage.groupby("deflection_id").size().to_dict() == expected
    assert set(expected) == {d["deflection_id"] for d in manifest["reporting"]["deflection"]}
    kinds = {d: {"TRACS" if r.startswith("FR-") else "MEG" for r in g["record_id"]}
             for d, g in lineage.groupby("deflection_id")}
    assert kinds == {d: set(s.split("+")) for d, s in deflections.itertuples(index=False)}
    assert lineage["run_id"].notna().all() and lineage["loaded_at"].notna().all()


def test_each_record_is_in_its_file_at_its_line(run):
    drop, _, _, _, lineage = run
    files = {p.name: p for p in drop.rglob("*") if p.is_file() and "superseded" not in p.parts}
    checked = 0
    for r in lineage.to_dict(orient="records"):
        lines = _lines(files[r["file_name"]])
        # the record starts at its line; its identity is in the lines that follow
        window = "\n".join(lines[r["line"] - 1:r["line"] + 15])
        identity = r["record_id"] if r["record_id"].startswith("FR-") \
            else r["record_id"].split("/", 1)[1]
        assert identity in window, (r["file_name"], r["line"], r["record_id"])
        checked += 1
    assert checked == len(lineage)


def test_explain_names_no_person(run, capsys):
    drop, _, path, deflections, _ = run
    people = json.loads((drop / "people.json").read_text(encoding="utf-8"))
    assert people
    linked = deflections[deflections["sources"] == "TRACS+MEG"]["deflection_id"].tolist()[:20]
    assert linked
    out = []
    for d in linked:
        assert main(["explain", "--config", str(path), d]) == 0
        out.append(capsys.readouterr().out)
    text = "\n".join(out)
    assert text.count("\n") >= 3 * len(linked)
    # names and birth dates (a middle initial alone could match anything)
    needles = {v for p in people for v in p.values() if isinstance(v, str) and len(v) > 3}
    assert needles
    for value in needles:
        assert value not in text, value
