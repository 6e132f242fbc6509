"""Vintages and revisions (publication.md §3), on each backend: publish Q3, then deliver a late
TraCS report, a void and an evaluation, publish again. reporting.revision names each change with
its cause, quality.revision_member each deflection, and the first vintage is unchanged byte for
byte."""
from __future__ import annotations

import datetime as dt

import pytest

from deflect.pipeline import build_marts
from publication.vintage import cell_members, publish
from tests.warehouse.helpers import STAGING, meg_case, merge, tracs_form, write_batch
from warehouse import load_batch, refresh

AS_OF = dt.date(2026, 11, 14)
VINTAGE_TABLES = ("publication", "published_cell", "published_table", "published_cell_member",
                  "published_deflection")


def tracs(n: int, version: int = 1, *, status: str = "Transmitted", sha: str = "a" * 64) -> dict:
    record = f"FR-26-{n:07d}"
    rows = tracs_form(record, version, status=status, file_sha=sha, report=f"ISP26-{n:06d}",
                      file_name=f"TRACS_IL0849800_20260901T013000_{n}.xml",
                      people=(("1", "CD", f"{n:064x}"),),
                      deflections=(("1", "SELF_REFERRAL", "SIEG"),))
    day = (dt.date(2026, 8, 1) + dt.timedelta(days=n % 40)).isoformat()
    for r in rows["stg_tracs__field_report"]:
        r.update(date_occurred=day, export_date="2026-09-30")
    for r in rows["stg_tracs__deflection"]:
        r.update(referral_date=day, approval_date=day)
    return rows


def meg(n: int, last_modified: str, engaged_after: int | None) -> dict:
    day = dt.date(2026, 7, 10) + dt.timedelta(days=n % 30)
    evaluations = () if engaged_after is None else (
        ("1", (day + dt.timedelta(days=engaged_after)).isoformat(), "ENG"),)
    rows = meg_case(f"KAMEG/KAMEG-2026-{n:04d}", last_modified, evaluations=evaluations,
                    file_name=f"CaseActivity_KAMEG_{n}.xml")
    for r in rows["stg_meg__deflection"]:
        r.update(referral_date=day.isoformat(), approval_date=day.isoformat(),
                 approving_unit="KAMEG")
    for r in rows["stg_meg__subject"]:
        r.update(person_key=f"{10_000 + n:064x}")
    for r in rows["stg_meg__case"]:
        r.update(export_date="2026-10-30", county_fips="17091")
    return rows


def load(wh, tmp_path, batch: str, kind: str, rows: dict) -> None:
    source = "tracs-isp" if kind == "tracs" else "meg-kameg"
    load_batch(wh, STAGING, write_batch(tmp_path, batch, kind, rows, source=source,
                                        run_id=f"run-{batch}"))
    refresh(wh, kinds=STAGING, run_id=f"run-{batch}", as_of=AS_OF, build=build_marts)


def vintage_rows(wh, vintage_id: str) -> dict[str, list[tuple]]:
    out = {}
    for table in VINTAGE_TABLES:
        cols = [c for (c,) in wh.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'meta' "
            "AND table_name = ? ORDER BY ordinal_position", [table])]
        rows = wh.query(f"SELECT {', '.join(cols)} FROM meta.{table} WHERE vintage_id = ?",
                        [vintage_id])
        out[table] = sorted(repr(r) for r in rows)
    out["history"] = sorted(repr(r) for r in wh.query(
        "SELECT * FROM reporting.published_history WHERE vintage_id = ?", [vintage_id]))
    return out


def test_a_second_vintage_names_each_change_with_its_cause(wh, tmp_path):
    load(wh, tmp_path, "b1", "tracs", merge(*(tracs(n) for n in range(1, 21))))
    # 30 KAMEG deflections, 15 engaged within a week
    load(wh, tmp_path, "b2", "meg", merge(*(
        meg(n, "2026-10-01T10:00:00", 3 if n <= 15 else None) for n in range(1, 31))))
    first = publish(wh, period="2026-Q3", as_of=AS_OF, run_id="run-b2", protection_width=5)
    v1 = first.meta.vintage_id
    assert first.previous_vintage_id is None
    before = vintage_rows(wh, v1)
    counts = dict(wh.query(
        "SELECT approving_unit_code, deflections FROM reporting.published_deflection_counts "
        "WHERE origin = 'ALL'"))
    assert counts["SIEG"] == 20 and counts["KAMEG"] == 30 and counts["ALL"] == 50
    # the deflections behind a cell (what `deflect explain --cell` lists), ALL cells included
    sieg = cell_members(wh, "deflection_counts", "SIEG", "2026-Q3")
    kameg = cell_members(wh, "deflections_by_sex", "KAMEG", "2026-Q3", "F")
    assert len(sieg) == 20 and len(kameg) == 30
    assert set(cell_members(wh, "deflection_counts", "ALL", "2026-Q3")) == set(sieg) | set(kameg)
    assert len(cell_members(wh, "statutory_measures", "KAMEG", "2026-Q3",
                            measure="engaged_30")) == 15
    with pytest.raises(LookupError):
        cell_members(wh, "deflections_by_sex", "NOPE", "2026-Q3", "F")

    # a late TraCS report (three forms first loaded now), a void, an evaluation
    load(wh, tmp_path, "b3", "tracs", merge(*(tracs(n) for n in (21, 22, 23)),
                                            tracs(5, 2, status="Voided", sha="c" * 64)))
    load(wh, tmp_path, "b4", "meg", meg(20, "2026-11-02T09:00:00", 4))
    second = publish(wh, period="2026-Q3", as_of=AS_OF, run_id="run-b4", protection_width=5)
    v2 = second.meta.vintage_id
    assert v2 != v1 and second.previous_vintage_id == v1 and second.revisions > 0

    # the first vintage did not change, and the published views show the second
    assert vintage_rows(wh, v1) == before
    assert dict(wh.query("SELECT vintage_id, superseded_by FROM reporting.publication")) == {
        v1: v2, v2: None}
    shown = wh.query("SELECT DISTINCT vintage_id FROM reporting.published_deflection_counts")
    assert shown == [(v2,)]

    causes = ("late_report", "correction", "void", "relink", "attribution", "followup")
    rev = {(r[0], r[1], r[2], r[3]): r[4:] for r in wh.query(
        "SELECT table_name, approving_unit_code, category, measure, old_value, new_value, "
        + ", ".join(causes) + " FROM reporting.revision WHERE vintage_id = ? "
        "AND previous_vintage_id = ? AND (origin IS NULL OR origin = 'ALL')", [v2, v1])}
    sieg = rev[("deflection_counts", "SIEG", None, "deflections")]
    assert [float(x) for x in sieg[:2]] == [20, 22]
    assert dict(zip(causes, sieg[2:])) == dict(late_report=3, correction=0, void=1, relink=0,
                                               attribution=0, followup=0)
    engaged = rev[("statutory_measures", "KAMEG", None, "engaged_30")]
    assert [float(x) for x in engaged[:2]] == [15, 16]
    assert dict(zip(causes, engaged[2:]))["followup"] == 1

    members = wh.query(
        "SELECT DISTINCT deflection_id, change, cause FROM quality.revision_member "
        "WHERE vintage_id = ? AND table_name = 'deflection_counts'", [v2])
    by_cause = {}
    for _, change, cause in members:
        by_cause[(change, cause)] = by_cause.get((change, cause), 0) + 1
    assert by_cause == {("entered", "late_report"): 3, ("left", "void"): 1}
    followup = wh.query(
        "SELECT DISTINCT cause FROM quality.revision_member WHERE vintage_id = ? "
        "AND table_name = 'deflections_by_engagement_bucket' AND cell_key LIKE 'KAMEG/%'", [v2])
    assert followup == [("followup",)]


@pytest.mark.postgres
def test_a_vintage_never_changes_on_postgresql(pg_url, tmp_path):
    # whoever asks, the owner included: the trigger of migration 0017
    from warehouse import connect, migrate

    with connect(pg_url) as w:
        migrate(w)
        load(w, tmp_path, "b1", "tracs", merge(*(tracs(n) for n in range(1, 12))))
        v = publish(w, period="2026-Q3", as_of=AS_OF, run_id="r", protection_width=5)
        with pytest.raises(Exception, match="never changes"):
            w.execute("UPDATE meta.published_cell SET value = 0 WHERE vintage_id = ?",
                      [v.meta.vintage_id])


def test_publishing_the_same_figures_as_of_the_same_date_again_writes_nothing(wh, tmp_path):
    load(wh, tmp_path, "b1", "tracs", merge(*(tracs(n) for n in range(1, 12))))
    first = publish(wh, period="2026-Q3", as_of=AS_OF, run_id="r1", protection_width=5)
    again = publish(wh, period="2026-Q3", as_of=AS_OF, run_id="r2", protection_width=5)
    assert again.reused and again.meta.vintage_id == first.meta.vintage_id
    assert wh.scalar("SELECT count(*) FROM meta.publication") == 1
    later = publish(wh, period="2026-Q3", as_of=AS_OF + dt.timedelta(days=30), run_id="r3",
                    protection_width=5)
    assert not later.reused and later.previous_vintage_id == first.meta.vintage_id
