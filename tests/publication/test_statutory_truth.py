"""The statutory measures (publication.md §1) of a generated year, through `deflect run` and
`deflect publish`, equal what the generator computes from its own model (generator/truth.py),
for every unit and quarter; and every cell a vintage publishes equals the truth."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml

from deflect import pipeline
from deflect.configuration import load_config
from deflect.publish import publish
from generator import GeneratorConfig, generate
from publication.vintage import per_deflection
from transforms import statutory
from warehouse import connect

pytestmark = pytest.mark.slow

YEAR = GeneratorConfig(start=dt.date(2025, 10, 1), end=dt.date(2026, 9, 30), seed=11,
                       forms_per_day=5, attachment_kb=1, large_attachments=0, defect_rate=0.02)
QUARTERS = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
CATEGORIES = ("pathway", "sex", "race", "ethnicity", "age_band", "engagement_bucket")
MEASURES = ("participants", "encounters", "matured_30", "engaged_30", "engagement_rate_30",
            "engaged", "median_days_to_engagement")


@pytest.fixture(scope="module")
def published_year(tmp_path_factory):
    base = tmp_path_factory.mktemp("year")
    manifest = generate(YEAR, base / "drop")
    data = yaml.safe_load((base / "drop" / "deflect.yaml").read_text(encoding="utf-8"))
    for s in data["sources"]:
        s["url"] = "file://" + str((base / "drop" / s["url"].split(":", 1)[1]).resolve())
    data.update(warehouse="duckdb:///warehouse.duckdb", landing_dir=str(base / "landing"),
                publish_dir=str(base / "published"))
    path = base / "deflect.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    config = load_config(path)
    as_of = dt.date.fromisoformat(manifest["as_of"])
    assert not pipeline.run(config, as_of=as_of, publish=False, workers=1)["failed_sources"]
    vintages = {q: publish(config, period=q, as_of=as_of)["vintage_id"] for q in QUARTERS}
    return config, manifest, as_of, vintages


def _truth(manifest) -> dict[tuple, dict]:
    return {(r["approving_unit_code"], r["referral_quarter"]): r
            for r in manifest["reporting"]["statutory"]}


def test_the_year_has_engagements_and_several_units(published_year):
    _, manifest, _, _ = published_year
    truth = _truth(manifest)
    assert {q for _, q in truth} >= set(QUARTERS)
    assert len({u for u, _ in truth}) >= 5
    assert sum(r["engaged"] for r in truth.values()) >= 10
    assert any(r["median_days_to_engagement"] is not None for r in truth.values())


def test_measures_equal_the_truth_for_every_unit_and_quarter(published_year):
    config, manifest, as_of, _ = published_year
    truth = _truth(manifest)
    with connect(config.warehouse, read_only=True) as wh:
        rows = per_deflection(wh, as_of)
    got = statutory.statutory_measures(rows)
    assert len(got) == len(truth)
    for r in got.to_dict(orient="records"):
        t = truth[(r["approving_unit_code"], r["referral_quarter"])]
        assert {m: r[m] for m in MEASURES} == {m: t[m] for m in MEASURES}, (
            r["approving_unit_code"], r["referral_quarter"])
        mine = rows[(rows["approving_unit_code"] == r["approving_unit_code"])
                    & (rows["referral_quarter"] == r["referral_quarter"])]
        for c in CATEGORIES:
            assert mine[c].value_counts().to_dict() == t[f"by_{c}"], (c, r["approving_unit_code"])


def test_every_published_cell_equals_the_truth(published_year):
    config, manifest, _, vintages = published_year
    truth = _truth(manifest)
    with connect(config.warehouse, read_only=True) as wh:
        for q, vintage_id in vintages.items():
            cells = wh.read_frame(
                "SELECT table_name, approving_unit_code, dimension, category, measure, value, "
                "suppressed FROM reporting.published_history WHERE vintage_id = ? "
                "AND approving_unit_code <> 'ALL' AND origin IS DISTINCT FROM 'ISP'", [vintage_id])
            hidden = cells["suppressed"].astype(bool)
            shown = cells[~hidden]
            assert len(shown), f"{q}: nothing published"
            assert cells[hidden]["value"].isna().all()
            for c in shown.itertuples(index=False):
                t = truth.get((c.approving_unit_code, q))
                if c.table_name == "statutory_measures":
                    want = t[c.measure] if t else (0 if c.measure in (
                        "participants", "encounters", "matured_30", "engaged_30") else None)
                elif c.table_name == "deflection_counts" or c.category == "ALL":
                    want = t["encounters"] if t else 0
                else:
                    want = (t[f"by_{c.dimension}"].get(c.category, 0)) if t else 0
                got = None if c.value is None else float(c.value)
                assert got == (None if want is None else float(want)), c
