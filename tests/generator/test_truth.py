"""The ground truth: its rule functions on small hand-made cases, and the manifest's internal
consistency on a generated drop."""
import datetime as dt
from collections import Counter, defaultdict

from deflect.core.units import UnitReference, load_units
from generator.model import Item
from generator.truth import MSide, TSide, deflection_id, link, pct_half_up, row

D = dt.date
AS_OF = D(2026, 11, 1)
PERIODS = UnitReference(load_units())


def tside(**kw):
    base = {"member": "TRACS:FR-26-0000001:1", "report": "ISP26-000001", "key": "k1",
                "occurred": D(2026, 8, 3), "origin": "ISP_DOP", "county": "17199", "sex": "F", "race": "W",
                "ethnicity": "N", "dob": D(1990, 5, 1), "referral": D(2026, 8, 3), "pathway": "SELF_REFERRAL",
                "unit": "SIEG", "approval_date": D(2026, 8, 3), "cm_contact": D(2026, 8, 3), "abeyance": "N", "items": (),
                "export_date": D(2026, 8, 4), "role": "DESIGNEE"}
    base.update(kw)
    return TSide(**base)


def mside(**kw):
    base = {"member": "MEG:SIEG/SIEG-2026-0001:1", "report": "ISP26-000001", "key": "k1",
                "exporting_unit": "SIEG", "origin": "ISP_DOP", "county": "17199", "sex": "F", "race": "W",
                "dob": D(1990, 5, 1), "referral": D(2026, 8, 3), "pathway": "SELF_REFERRAL", "unit": "SIEG",
                "approval_date": D(2026, 8, 3), "cm_contact": D(2026, 8, 3), "evaluations": [], "outcome": "PENDING",
                "export_date": D(2026, 8, 5), "role": "DESIGNEE"}
    base.update(kw)
    return MSide(**base)


def flags(r):
    return set(filter(None, r["flags"].split(",")))


def test_link_by_key_then_by_report():
    t1, m1 = tside(), mside()
    t2 = tside(member="TRACS:FR-26-0000002:1", report="ISP26-000002", key="a")
    m2 = mside(member="MEG:SIEG/SIEG-2026-0002:1", report="ISP26-000002", key="b")
    pairs = link([t1, t2], [m1, m2])
    assert (t1, m1, False) in pairs and (t2, m2, True) in pairs and len(pairs) == 2


def test_multiple_match_links_none_and_flags_w11():
    t1 = tside()
    m1, m2 = mside(), mside(member="MEG:SIEG/SIEG-2026-0009:1")
    pairs = link([t1], [m1, m2])
    assert (t1, None, False) in pairs and len(pairs) == 3
    assert "W11" in flags(row(None, m1, False, PERIODS, AS_OF))


def test_attribution():
    assert row(None, mside(unit=None, origin="MEG", report=None), False, PERIODS, AS_OF)["approving_unit_code"] == "SIEG"
    r = row(tside(unit=None, approval_date=None), None, False, PERIODS, AS_OF)
    assert r["approving_unit_code"] == "UNATTRIBUTED" and "W01" in flags(r)
    r = row(tside(unit="XMEG"), None, False, PERIODS, AS_OF)
    assert r["approving_unit_code"] == "UNATTRIBUTED" and "W02" in flags(r)
    r = row(tside(unit="CIEG"), mside(), False, PERIODS, AS_OF)
    assert r["approving_unit_code"] == "SIEG" and "W09" in flags(r)
    # BATF's 2020 row does not list county 17085 (its 2007 row does)
    r = row(tside(unit="BATF", county="17085"), None, False, PERIODS, AS_OF)
    assert "W08" in flags(r)


def test_followup_figures_and_gaps():
    m = mside(referral=D(2026, 5, 1), approval_date=D(2026, 5, 1),
              evaluations=[(D(2026, 4, 20), "ENG"), (D(2026, 7, 25), "TRT")])
    r = row(None, m, False, PERIODS, AS_OF)
    assert r["first_evaluation_date"] == "2026-07-25" and r["evaluated_within_90_days"] is True
    assert {"W07", "W15"} <= flags(r)  # 2026-07-25 .. 2026-11-01 is 99 days
    r = row(None, mside(outcome="UNSUCCESSFUL", evaluations=[(D(2026, 9, 1), "UNS")]), False, PERIODS, AS_OF)
    assert "W16" in flags(r) and "W15" not in flags(r)


def test_w17_needs_a_final_outcome_and_no_disposal():
    t = tside(items=(Item(1, "bag", "Y", "HELD"),))
    assert "W17" in flags(row(t, mside(outcome="SUCCESSFUL"), False, PERIODS, AS_OF))
    for method, flagged in (("DESTROYED", False), ("RETURNED", False), ("RETAINED", True)):
        m = mside(outcome="SUCCESSFUL", disposal=D(2026, 8, 4), disposal_method=method)
        assert ("W17" in flags(row(t, m, False, PERIODS, AS_OF))) is flagged, method
    assert "W17" not in flags(row(t, mside(), False, PERIODS, AS_OF))


# W18: SIEG is a MEG, NCIT a task force (no counties, so no W08)
W18_CASES = [
    ("SIEG", "DIRECTOR", False), ("SIEG", "DESIGNEE", False), ("SIEG", "COMMANDER", True),
    ("SIEG", None, True),
    ("NCIT", "COMMANDER", False), ("NCIT", "DESIGNEE", False), ("NCIT", "DIRECTOR", True),
    ("NCIT", None, True),
]


def test_w18_each_role_for_each_unit_type():
    for unit, role, flagged in W18_CASES:
        r = row(tside(unit=unit, role=role), None, False, PERIODS, D(2026, 8, 20))
        assert ("W18" in flags(r)) is flagged, ("TraCS", unit, role)
        assert flags(r) - {"W18"} == set(), flags(r)
        r = row(None, mside(unit=unit, role=role, report=None), False, PERIODS, AS_OF)
        assert ("W18" in flags(r)) is flagged, ("MEG", unit, role)


def test_w18_uses_the_approval_that_attributes():
    assert "W18" not in flags(row(tside(role=None), mside(role="DIRECTOR"), False, PERIODS, AS_OF))
    assert "W18" in flags(row(tside(role=None), mside(unit=None, approval_date=None, role=None),
                              False, PERIODS, AS_OF))
    # no approval (W01) or an unknown unit (W02): no unit type, no W18
    assert "W18" not in flags(row(tside(unit=None, approval_date=None, role=None), None, False,
                                  PERIODS, AS_OF))
    assert "W18" not in flags(row(tside(unit="XMEG", role=None), None, False, PERIODS, AS_OF))


def test_w19_boundaries():
    ref = D(2026, 8, 3)
    week, day = dt.timedelta(days=7), dt.timedelta(days=1)

    def w19(t_contact, m_contact, as_of=AS_OF):
        r = row(tside(cm_contact=t_contact), mside(cm_contact=m_contact), False, PERIODS, as_of)
        return "W19" in flags(r)

    assert not w19(ref + week, None) and w19(ref + week + day, None)
    assert not w19(None, ref + week) and w19(None, ref + week + day)
    assert not w19(ref + week + 5 * day, ref + 2 * day)  # the earliest of the two
    assert not w19(None, None, as_of=ref + week) and w19(None, None, as_of=ref + week + day)


def test_w20_boundaries():
    ref = D(2026, 8, 3)
    for origin in ("ISP_DOP", "ISP_DCI"):
        t = tside(origin=origin)
        assert "W20" not in flags(row(t, None, False, PERIODS, ref + dt.timedelta(days=29)))
        assert "W20" in flags(row(t, None, False, PERIODS, ref + dt.timedelta(days=30)))
    # reported by the approving unit: never W20
    assert "W20" not in flags(row(tside(), mside(), False, PERIODS, AS_OF))
    assert "W20" not in flags(row(None, mside(report=None), False, PERIODS, AS_OF))


def test_w14_event_after_the_delivering_export():
    m = mside(evaluations=[(D(2026, 8, 20), "ENG")], export_date=D(2026, 8, 10))
    assert "W14" in flags(row(None, m, False, PERIODS, AS_OF))


def test_pct_rounds_half_up():
    assert pct_half_up(1, 16) == 6.3 and pct_half_up(2, 3) == 66.7 and pct_half_up(0, 0) is None


def test_deflection_id_is_order_free():
    assert deflection_id(["MEG:A/A-1:1", "TRACS:F:1"]) == deflection_id(["TRACS:F:1", "MEG:A/A-1:1"])
    assert deflection_id(["TRACS:F:1"]).startswith("D") and len(deflection_id(["x"])) == 25


def test_manifest_counts_equal_the_rows(small_drop):
    _, manifest = small_drop
    rep = manifest["reporting"]
    rows = rep["deflection"]
    assert [r["deflection_id"] for r in rows] == sorted(r["deflection_id"] for r in rows)
    counts = Counter((r["approving_unit_code"], r["referral_quarter"], r["pathway"]) for r in rows)
    assert {(c["approving_unit_code"], c["referral_quarter"], c["pathway"]): c["deflections"]
            for c in rep["deflection_counts"]} == dict(counts)
    per = defaultdict(int)
    for r in rows:
        per[(r["approving_unit_code"], r["referral_quarter"])] += 1
    for f in rep["followup_compliance"]:
        assert f["referrals"] == per[(f["approving_unit_code"], f["referral_quarter"])]
        assert f["evaluated_within_90_days"] <= f["due"] <= f["referrals"]
        assert f["pct_evaluated_within_90_days"] == pct_half_up(f["evaluated_within_90_days"], f["due"])
    columns = {"deflection_id", "person_key", "referral_date", "referral_quarter", "pathway",
               "approving_unit_code", "originating_agency_type", "county_fips", "sources", "sex",
               "race", "ethnicity", "age_at_referral", "first_evaluation_date",
               "evaluated_within_90_days", "outcome", "prosecutor_submission_date", "flags"}
    assert all(set(r) == columns for r in rows)


def test_every_w_code_and_pathway_occurs(small_drop):
    _, manifest = small_drop
    rows = manifest["reporting"]["deflection"]
    seen = {f for r in rows for f in flags(r)}
    assert seen == {f"W{n:02d}" for n in range(1, 21)}
    assert {r["pathway"] for r in rows} == {"SELF_REFERRAL", "ACTIVE_OUTREACH", "NALOXONE_PLUS",
                                            "OFFICER_PREVENTION", "OFFICER_INTERVENTION"}
    assert {r["sources"] for r in rows} == {"TRACS", "MEG", "TRACS+MEG"}
    approved = sum(1 for r in rows if r["approving_unit_code"] != "UNATTRIBUTED")
    assert approved / len(rows) > 0.8  # most deflections are approved; some are not
