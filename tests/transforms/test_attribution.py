"""§3: attribution and W01, W02, W08, W09, W12, W18."""
from tests.transforms.builders import (
    SOON,
    D,
    flags,
    meg_case,
    meg_deflection,
    only,
    person,
    tracs_form,
)

UNAPPROVED = meg_deflection(unit=None, approval_date=None)


def test_meg_approval_wins_over_tracs():
    row = only(tracs_form(people=[person(unit="CIEG", approval_date=D(2026, 8, 30))]),
               meg_case())
    assert row["approving_unit_code"] == "SIEG" and row["approval_date"] == D(2026, 9, 1)
    assert "W09" in row["flags"].split(",")


def test_tracs_approval_used_when_meg_has_none():
    row = only(tracs_form(people=[person(unit="CIEG")]),
               meg_case(deflections=[UNAPPROVED]))
    assert row["approving_unit_code"] == "CIEG"
    assert "W09" not in row["flags"] and "W01" not in row["flags"]


def test_w09_negative_same_unit_or_one_side_only():
    assert "W09" not in flags(tracs_form(), meg_case())
    assert "W09" not in flags(tracs_form(people=[person(unit=None, approval_date=None)]),
                              meg_case())


def test_w01_no_approval_anywhere():
    row = only(tracs_form(people=[person(unit=None, approval_date=None)]), as_of=SOON)
    assert row["approving_unit_code"] == "UNATTRIBUTED" and row["flags"] == "W01"
    row = only(meg_case(report=None, origin="LOCAL", deflections=[UNAPPROVED]))
    assert row["approving_unit_code"] == "UNATTRIBUTED" and row["flags"] == "W01"


def test_w12_meg_or_tf_origin_counted_by_exporting_unit():
    for origin in ("MEG", "TASK_FORCE"):
        row = only(meg_case(case="KAMEG-2026-0001", unit="KAMEG", report=None, origin=origin,
                            county="17091", deflections=[UNAPPROVED]))
        assert row["approving_unit_code"] == "KAMEG" and row["flags"] == "W12"
    # approved: no W12
    assert flags(meg_case(report=None, origin="MEG")) == set()


def test_w12_not_for_a_linked_isp_originated_case():
    # TraCS is authoritative for the originating agency: an ISP form makes the pair ISP_DOP
    row = only(tracs_form(people=[person(unit=None, approval_date=None)]),
               meg_case(origin="MEG", deflections=[UNAPPROVED]))
    assert row["approving_unit_code"] == "UNATTRIBUTED" and row["flags"] == "W01"


def test_w12_tracs_only_has_no_exporting_unit():
    # cannot happen with real TraCS data (origin ISP_DOP/ISP_DCI); decided: W01, UNATTRIBUTED
    row = only(tracs_form(origin="MEG", people=[person(unit=None, approval_date=None)]))
    assert row["approving_unit_code"] == "UNATTRIBUTED" and row["flags"] == "W01"


def test_w02_unknown_unit():
    row = only(tracs_form(people=[person(unit="NOPE")]), as_of=SOON)
    assert row["approving_unit_code"] == "UNATTRIBUTED" and row["flags"] == "W02"


def test_w02_no_fallback_from_unknown_meg_unit_to_tracs_unit():
    row = only(tracs_form(), meg_case(deflections=[meg_deflection(unit="NOPE")]))
    assert row["approving_unit_code"] == "UNATTRIBUTED"
    assert set(row["flags"].split(",")) == {"W02", "W09"}


def test_w02_not_valid_on_the_approval_date():
    # SLANT is valid from 2020-01-01
    row = only(tracs_form(occurred=D(2019, 6, 1),
                          people=[person(unit="SLANT", approval_date=D(2019, 6, 1),
                                         referral=D(2020, 1, 2))]),
               as_of=D(2020, 1, 10))
    assert row["approving_unit_code"] == "UNATTRIBUTED" and "W02" in row["flags"]
    row = only(tracs_form(occurred=D(2019, 6, 1), county="17007",
                          people=[person(unit="SLANT", approval_date=D(2020, 1, 1),
                                         referral=D(2020, 1, 2))]),
               as_of=D(2020, 1, 10))
    assert row["approving_unit_code"] == "SLANT" and row["flags"] == ""


def test_w02_uses_the_referral_date_when_the_approval_has_no_date():
    late = person(unit="SLANT", approval_date=None, referral=D(2020, 1, 1))
    early = person(unit="SLANT", approval_date=None, referral=D(2019, 12, 31))
    assert only(tracs_form(occurred=D(2019, 12, 1), county="17007", people=[late]),
                as_of=D(2020, 1, 5))["approving_unit_code"] == "SLANT"
    assert only(tracs_form(occurred=D(2019, 12, 1), county="17007", people=[early]),
                as_of=D(2020, 1, 5))["flags"] == "W02"


def test_w08_county_outside_the_unit():
    assert flags(tracs_form(county="17031"), as_of=SOON) == {"W08"}  # Cook is not SIEG's
    assert flags(tracs_form(county="17077"), as_of=SOON) == set()


def test_w08_follows_the_unit_history():
    # BATF listed 17085 until 2019-12-31, not from 2020-01-01
    old = person(unit="BATF", approval_date=D(2019, 12, 31), referral=D(2019, 12, 31))
    new = person(unit="BATF", approval_date=D(2020, 1, 1), referral=D(2020, 1, 1))
    assert flags(tracs_form(occurred=D(2019, 12, 1), county="17085", people=[old]),
                 as_of=D(2020, 1, 5)) == set()
    assert flags(tracs_form(occurred=D(2019, 12, 1), county="17085", people=[new]),
                 as_of=D(2020, 1, 5)) == {"W08"}


def test_w08_skipped_without_counties_or_when_unattributed():
    assert flags(tracs_form(county="17031", people=[person(unit="NCIT")]), as_of=SOON) == set()
    assert flags(tracs_form(county="17031", people=[person(unit=None, approval_date=None)]),
                 as_of=SOON) == {"W01"}


def test_w08_for_w12_uses_the_exporting_unit_on_the_referral_date():
    case = {"case": "KAMEG-2026-0001", "unit": "KAMEG", "report": None, "origin": "TASK_FORCE",
                "deflections": [UNAPPROVED]}
    assert flags(meg_case(county="17031", **case)) == {"W08", "W12"}
    assert flags(meg_case(county="17075", **case)) == {"W12"}


def test_county_from_tracs_for_a_linked_pair():
    # TraCS county inside SIEG, MEG county outside: TraCS is authoritative, no W08
    assert "W08" not in flags(tracs_form(county="17199"), meg_case(county="19163"))


# W18 (III.D): a MEG is approved by its director or a designee, a task force by its commander or
# a designee; SIEG is a MEG, NCIT a task force (it lists no counties: no W08 to mind)
W18_CASES = [
    ("SIEG", "DIRECTOR", False), ("SIEG", "DESIGNEE", False), ("SIEG", "COMMANDER", True),
    ("SIEG", None, True),
    ("NCIT", "COMMANDER", False), ("NCIT", "DESIGNEE", False), ("NCIT", "DIRECTOR", True),
    ("NCIT", None, True),
]


def test_w18_each_role_for_each_unit_type_tracs_approval():
    for unit, role, flagged in W18_CASES:
        got = flags(tracs_form(people=[person(unit=unit, role=role)]), as_of=SOON)
        assert ("W18" in got) is flagged, (unit, role, got)
        assert got - {"W18"} == set(), (unit, role, got)


def test_w18_each_role_for_each_unit_type_meg_approval():
    for unit, role, flagged in W18_CASES:
        got = flags(meg_case(case=f"{unit}-2026-0001", unit=unit, report=None, county="17077",
                             deflections=[meg_deflection(unit=unit, role=role)]))
        assert ("W18" in got) is flagged, (unit, role, got)


def test_w18_role_of_the_approval_that_attributes():
    # MEG approves: its role counts, the TraCS role (blank here) does not
    assert "W18" not in flags(tracs_form(people=[person(role=None)]),
                              meg_case(deflections=[meg_deflection(role="DIRECTOR")]))
    assert "W18" in flags(tracs_form(people=[person(role="DIRECTOR")]),
                          meg_case(deflections=[meg_deflection(role="COMMANDER")]))
    # MEG has no approval: the TraCS approval attributes, with its blank role
    assert "W18" in flags(tracs_form(people=[person(role=None)]),
                          meg_case(deflections=[UNAPPROVED]))
    assert "W18" not in flags(tracs_form(people=[person(role="DIRECTOR")]),
                              meg_case(deflections=[UNAPPROVED]))


def test_w18_only_when_attributed_through_an_approval():
    # no approval (W01, W12) or a unit that is not in the reference (W02): no unit type to fit
    assert "W18" not in flags(tracs_form(people=[person(unit=None, role=None,
                                                        approval_date=None)]), as_of=SOON)
    assert "W18" not in flags(meg_case(case="KAMEG-2026-0001", unit="KAMEG", report=None,
                                       origin="MEG", county="17091", deflections=[UNAPPROVED]))
    assert "W18" not in flags(tracs_form(people=[person(unit="NOPE", role=None)]), as_of=SOON)
    # SLANT exists from 2020-01-01: approved the day before, it is W02 and not W18
    early = person(unit="SLANT", role=None, approval_date=D(2019, 12, 31),
                   referral=D(2020, 1, 2))
    got = flags(tracs_form(occurred=D(2019, 12, 1), county="17007", people=[early]),
                as_of=D(2020, 1, 10))
    assert "W02" in got and "W18" not in got
