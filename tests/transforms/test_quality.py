"""§5: W03, W04, W05, W06, W13, W14, W20, and the deflection_flag lineage."""
from tests.transforms.builders import (
    SOON,
    D,
    flags,
    marts,
    meg_case,
    meg_deflection,
    only,
    person,
    tracs_form,
)


def test_w03_approval_after_referral():
    assert flags(tracs_form(people=[person(approval_date=D(2026, 9, 2))]), as_of=SOON) == {"W03"}
    assert flags(tracs_form(people=[person(approval_date=D(2026, 9, 1))]), as_of=SOON) == set()
    # the MEG approval and MEG referral are the authoritative ones for a linked pair
    assert "W03" not in flags(tracs_form(people=[person(approval_date=D(2026, 9, 5))]),
                              meg_case())
    assert "W03" in flags(tracs_form(),
                          meg_case(deflections=[meg_deflection(approval_date=D(2026, 9, 3))]))


def test_w03_not_without_approval_unit():
    # an approval time without a unit is no approval (W01), so no W03
    assert flags(tracs_form(people=[person(unit=None, approval_date=D(2026, 9, 5))]),
                 as_of=SOON) == {"W01"}


def test_w04_referral_before_occurrence():
    assert flags(tracs_form(occurred=D(2026, 9, 2)), as_of=SOON) == {"W04"}
    assert flags(tracs_form(occurred=D(2026, 9, 1)), as_of=SOON) == set()
    # authoritative (MEG) referral against the TraCS occurrence date
    assert "W04" in flags(tracs_form(occurred=D(2026, 9, 1)),
                          meg_case(deflections=[meg_deflection(referral=D(2026, 8, 31),
                                                               approval_date=D(2026, 8, 31))]))
    assert "W04" not in flags(meg_case(report=None, deflections=[
        meg_deflection(referral=D(2020, 1, 1), approval_date=D(2020, 1, 1))]),
        as_of=D(2020, 1, 2))


def test_w05_officer_prevention_with_abeyance():
    assert flags(tracs_form(people=[person(pathway="OFFICER_PREVENTION", abeyance="Y")]),
                 as_of=SOON) == {"W05"}
    assert flags(tracs_form(people=[person(pathway="OFFICER_PREVENTION", abeyance="N")]),
                 as_of=SOON) == set()
    assert flags(tracs_form(people=[person(pathway="OFFICER_INTERVENTION", abeyance="Y")]),
                 as_of=SOON) == set()
    # the authoritative pathway is MEG's
    linked = flags(tracs_form(people=[person(pathway="OFFICER_INTERVENTION", abeyance="Y")]),
                   meg_case(deflections=[meg_deflection(pathway="OFFICER_PREVENTION")]))
    assert "W05" in linked
    # only where TraCS reports the deflection
    assert flags(meg_case(report=None,
                          deflections=[meg_deflection(pathway="OFFICER_PREVENTION")])) == set()


def test_w06_officer_intervention_with_abeyance_blank():
    assert flags(tracs_form(people=[person(pathway="OFFICER_INTERVENTION", abeyance=None)]),
                 as_of=SOON) == {"W06"}
    assert flags(tracs_form(people=[person(pathway="OFFICER_INTERVENTION", abeyance="N")]),
                 as_of=SOON) == set()
    assert flags(tracs_form(people=[person(pathway="SELF_REFERRAL", abeyance=None)]),
                 as_of=SOON) == set()
    assert "W06" not in flags(
        tracs_form(people=[person(pathway="OFFICER_INTERVENTION", abeyance=None)]),
        meg_case(deflections=[meg_deflection(pathway="ACTIVE_OUTREACH")]))
    assert flags(meg_case(report=None,
                          deflections=[meg_deflection(pathway="OFFICER_INTERVENTION")])) == set()


def test_w13_age_bounds():
    for age, flagged in ((9, True), (10, False), (100, False), (101, True), (None, False)):
        assert (flags(tracs_form(people=[person(age=age)]), as_of=SOON) == {"W13"}) is flagged, age
    # TraCS age is authoritative over MEG's
    assert "W13" not in flags(tracs_form(people=[person(age=30)]),
                              meg_case(deflections=[meg_deflection(age=5)]))


def test_w14_tracs_events_against_tracs_export_date():
    export = D(2026, 9, 10)
    assert flags(tracs_form(export_date=export), as_of=SOON) == set()
    # referred 2026-09-04, so a contact on 09-10 or 09-11 is within 7 days (not W19)
    referred = {"referral": D(2026, 9, 4)}
    assert flags(tracs_form(export_date=export,
                            people=[person(**referred, cm_contact=D(2026, 9, 11))]),
                 as_of=SOON) == {"W14"}
    assert flags(tracs_form(export_date=export,
                            people=[person(**referred, cm_contact=D(2026, 9, 10))]),
                 as_of=SOON) == set()
    assert "W14" in flags(tracs_form(export_date=D(2026, 8, 31), occurred=D(2026, 8, 31),
                                     people=[person(referral=D(2026, 8, 31))]))  # approval 9-01


def test_w14_meg_events_against_meg_export_date():
    export = D(2026, 10, 1)
    # referred a few days before the export, so a contact on the export date is not W19
    base = {"referral": D(2026, 9, 28), "approval_date": D(2026, 9, 28)}
    ok = meg_deflection(**base, evaluations=[D(2026, 10, 1)], prosecutor=D(2026, 10, 1),
                        disposal=D(2026, 10, 1), cm_contact=D(2026, 10, 1))
    assert flags(meg_case(report=None, export_date=export, deflections=[ok])) == set()
    for late in ({"evaluations": [D(2026, 10, 2)]}, {"prosecutor": D(2026, 10, 2)},
                 {"disposal": D(2026, 10, 2)}, {"cm_contact": D(2026, 10, 2)}):
        assert flags(meg_case(report=None, export_date=export,
                              deflections=[meg_deflection(**base, **late)])) == {"W14"}, late


def test_w14_each_side_against_its_own_file():
    # the MEG evaluation is after the TraCS file's export date but before the MEG file's: no W14
    t = tracs_form(export_date=D(2026, 9, 2))
    m = meg_case(export_date=D(2026, 10, 30),
                 deflections=[meg_deflection(evaluations=[D(2026, 10, 1)])])
    assert "W14" not in flags(t, m)
    # the TraCS case-manager contact is before the MEG export date but after the TraCS one: W14
    t = tracs_form(export_date=D(2026, 9, 2), people=[person(cm_contact=D(2026, 9, 3))])
    assert "W14" in flags(t, m)


def test_flags_column_sorted_and_flag_rows_lineage():
    m = marts(tracs_form(county="17031", people=[person(pathway="OFFICER_PREVENTION",
                                                        abeyance="Y", age=5)]), as_of=SOON)
    assert m.deflection.loc[0, "flags"] == "W05,W08,W13"
    rows = m.deflection_flag
    assert list(rows["code"]) == ["W05", "W08", "W13"]
    assert set(rows["source"]) == {"tracs-isp"} and set(rows["record_id"]) == {"FR-26-0000001"}
    assert set(rows["line"]) == {20}
    assert all(isinstance(x, str) and x for x in rows["message"])
    # a linked deflection cites the MEG record
    m = marts(tracs_form(county="17031"), meg_case(county="17031"))
    rows = m.deflection_flag
    assert list(rows["code"]) == ["W08"]
    assert rows.iloc[0][["source", "file_name", "record_id", "line"]].tolist() == [
        "meg-sieg", "CaseActivity_SIEG_20261030.xml", "SIEG/SIEG-2026-0001", 30]
    assert rows.iloc[0]["deflection_id"] == m.deflection.iloc[0]["deflection_id"]


def test_w20_isp_deflection_only_in_tracs_for_30_days():
    # referred 2026-09-01: 29 days later not yet, 30 days later W20
    for origin in ("ISP_DOP", "ISP_DCI"):
        assert "W20" not in flags(tracs_form(origin=origin), as_of=D(2026, 9, 30))
        assert flags(tracs_form(origin=origin), as_of=D(2026, 10, 1)) == {"W20"}
    # the approving unit has reported it: never W20
    assert "W20" not in flags(tracs_form(), meg_case(), as_of=D(2027, 1, 1))
    assert "W20" not in flags(meg_case(report=None), as_of=D(2027, 1, 1))
    # not ISP-originated (cannot come from TraCS; decided by the origin alone)
    assert "W20" not in flags(tracs_form(origin="MEG"), as_of=D(2027, 1, 1))


def test_w20_whatever_the_attribution():
    # no approval (W01) or an unknown unit (W02): no MEG or task force has reported it either
    assert flags(tracs_form(people=[person(unit=None, approval_date=None)]),
                 as_of=D(2026, 10, 1)) == {"W01", "W20"}
    assert flags(tracs_form(people=[person(unit="NOPE")]),
                 as_of=D(2026, 10, 1)) == {"W02", "W20"}


def test_tracs_report_number_carried_for_the_worklist():
    def report(*records):
        return only(*records)["tracs_report_number"]

    assert report(tracs_form(report="ISP26-000007")) == "ISP26-000007"
    assert report(tracs_form(), meg_case()) == "ISP26-000001"
    # MEG only: the report its case names, if any
    assert report(meg_case(report="ISP26-000009")) == "ISP26-000009"
    assert report(meg_case(report=None)) is None
