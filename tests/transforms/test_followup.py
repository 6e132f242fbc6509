"""§4: evaluations as of D, due, overdue, W07, W15, W16, W17, W19."""
import datetime as dt

from tests.transforms.builders import (
    AS_OF,
    D,
    flags,
    meg_case,
    meg_deflection,
    only,
    person,
    tracs_form,
)

REF = D(2026, 6, 1)
DUE = REF + dt.timedelta(days=90)  # 2026-08-30


def case(as_of=None, tracs=False, items=(), **deflection):
    records = [meg_case(report="ISP26-000001" if tracs else None,
                        export_date=D(2026, 12, 31),
                        deflections=[meg_deflection(referral=REF, approval_date=REF, **deflection)])]
    if tracs:
        records.append(tracs_form(occurred=REF, items=items,
                                  people=[{"seq": 1, "key": "a" * 64, "disposition": "CD", "sex": "M",
                                               "race": "W", "ethnicity": "N",
                                               "deflection": {"referral": REF,
                                                           "approval_date": REF}}]))
    return records


def row(as_of=AS_OF, **kw):
    return only(*case(**kw), as_of=as_of)


def test_first_evaluation_and_within_90_days_boundary():
    r = row(evaluations=[DUE, D(2026, 7, 1) + dt.timedelta(days=200)])
    assert r["first_evaluation_date"] == DUE and r["evaluated_within_90_days"] is True
    r = row(evaluations=[DUE + dt.timedelta(days=1)])
    assert r["first_evaluation_date"] == DUE + dt.timedelta(days=1)
    assert r["evaluated_within_90_days"] is False
    assert r["first_due_date"] == DUE


def test_only_evaluations_on_or_before_as_of_count():
    r = row(as_of=D(2026, 7, 1), evaluations=[D(2026, 7, 2)])
    assert r["first_evaluation_date"] is None and r["evaluated_within_90_days"] is False
    r = row(as_of=D(2026, 7, 2), evaluations=[D(2026, 7, 2)])
    assert r["first_evaluation_date"] == D(2026, 7, 2)


def test_w07_evaluation_before_referral_is_flagged_and_ignored():
    r = row(evaluations=[D(2026, 5, 31), D(2026, 7, 1)])
    assert "W07" in r["flags"] and r["first_evaluation_date"] == D(2026, 7, 1)
    r = row(evaluations=[REF])
    assert "W07" not in r["flags"] and r["first_evaluation_date"] == REF


def test_overdue_boundary():
    assert row(as_of=DUE)["overdue"] is False
    assert row(as_of=DUE + dt.timedelta(days=1))["overdue"] is True
    assert row(as_of=D(2026, 11, 1), evaluations=[D(2026, 10, 1)])["overdue"] is False
    assert row(outcome="SUCCESSFUL")["overdue"] is False
    # an evaluation after D does not count as of D
    assert row(as_of=D(2026, 9, 15), evaluations=[D(2026, 9, 20)])["overdue"] is True


def test_w15_gap_from_referral_to_first_evaluation():
    gap93 = REF + dt.timedelta(days=93)
    gap92 = REF + dt.timedelta(days=92)
    assert "W15" in flags(*case(evaluations=[gap93]), as_of=gap93)
    assert "W15" not in flags(*case(evaluations=[gap92]), as_of=gap92)


def test_w15_gap_between_evaluations_and_to_as_of():
    e1, e2 = D(2026, 6, 10), D(2026, 6, 10) + dt.timedelta(days=93)
    assert "W15" in flags(*case(evaluations=[e1, e2]), as_of=e2)
    assert "W15" not in flags(*case(evaluations=[e1, e2 - dt.timedelta(days=1)]), as_of=e2)
    # the tail: last evaluation to D, and with none, referral to D
    assert "W15" in flags(*case(evaluations=[e1]), as_of=e1 + dt.timedelta(days=93))
    assert "W15" not in flags(*case(evaluations=[e1]), as_of=e1 + dt.timedelta(days=92))
    assert "W15" in flags(*case(), as_of=REF + dt.timedelta(days=93))
    assert "W15" not in flags(*case(), as_of=REF + dt.timedelta(days=92))


def test_w15_only_for_pending():
    assert "W15" not in flags(*case(outcome="SUCCESSFUL", prosecutor=None),
                              as_of=REF + dt.timedelta(days=200))


def test_w15_ignores_evaluations_before_referral_and_after_as_of():
    as_of = REF + dt.timedelta(days=80)
    # the later evaluation is after D: the tail is referral -> D (80 days): no W15
    assert "W15" not in flags(*case(evaluations=[REF + dt.timedelta(days=200)]), as_of=as_of)


def test_w16_unsuccessful_without_prosecutor():
    last = D(2026, 9, 1)
    assert "W16" in flags(*case(outcome="UNSUCCESSFUL", evaluations=[last]),
                          as_of=last + dt.timedelta(days=31))
    assert "W16" not in flags(*case(outcome="UNSUCCESSFUL", evaluations=[last]),
                              as_of=last + dt.timedelta(days=30))
    assert "W16" not in flags(*case(outcome="UNSUCCESSFUL", evaluations=[last],
                                    prosecutor=D(2026, 9, 5)), as_of=D(2026, 12, 1))
    assert "W16" not in flags(*case(outcome="SUCCESSFUL", evaluations=[last]),
                              as_of=D(2026, 12, 1))
    # with no evaluation, from the referral
    assert "W16" in flags(*case(outcome="UNSUCCESSFUL"), as_of=REF + dt.timedelta(days=31))


def test_w17_seized_evidence_not_disposed_after_final_outcome():
    held = [("Y", "HELD")]
    assert "W17" in flags(*case(tracs=True, items=held, outcome="SUCCESSFUL"))
    assert "W17" in flags(*case(tracs=True, items=[("Y", None)], outcome="UNSUCCESSFUL",
                                prosecutor=D(2026, 7, 1)))
    assert "W17" not in flags(*case(tracs=True, items=held, outcome="PENDING"))
    assert "W17" not in flags(*case(tracs=True, items=held, outcome="SUCCESSFUL",
                                    disposal=D(2026, 9, 1)))
    assert "W17" not in flags(*case(tracs=True, items=[("Y", "DESTROYED"), ("Y", "RETURNED"),
                                                       ("N", "HELD")], outcome="SUCCESSFUL"))
    # MEG only: no TraCS form, no items
    assert "W17" not in flags(*case(outcome="SUCCESSFUL"))


def test_evaluations_of_another_subject_do_not_count():
    records = [meg_case(report=None, subjects={1: ("a" * 64, "M", "W"), 2: ("b" * 64, "F", "W")},
                        deflections=[meg_deflection(subject=1, referral=REF),
                                     meg_deflection(subject=2, referral=REF,
                                                    evaluations=[D(2026, 7, 1)])])]
    from tests.transforms.builders import marts
    m = marts(*records)
    got = dict(zip(m.deflection["meg_subject_id"], m.deflection["first_evaluation_date"]))
    assert got == {"1": None, "2": D(2026, 7, 1)}


def test_w17_retained_is_not_a_disposal():
    held = [("Y", "HELD")]
    for method, flagged in (("RETAINED", True), ("DESTROYED", False), ("RETURNED", False)):
        got = flags(*case(tracs=True, items=held, outcome="SUCCESSFUL", disposal=D(2026, 9, 1),
                          disposal_method=method))
        assert ("W17" in got) is flagged, method


def _w19(as_of=AS_OF, tracs_contact="none", **deflection):
    """W19 for a MEG deflection referred on REF; `tracs_contact` links a TraCS form with that
    contact date ("none": MEG only)."""
    records = case(**deflection)
    if tracs_contact != "none":
        records[0] = meg_case(report="ISP26-000001", export_date=D(2026, 12, 31),
                              deflections=[meg_deflection(referral=REF, approval_date=REF,
                                                          **deflection)])
        records.append(tracs_form(occurred=REF, export_date=D(2026, 12, 31), people=[
            person(referral=REF, approval_date=REF, cm_contact=tracs_contact)]))
    return "W19" in flags(*records, as_of=as_of)


def test_w19_contact_within_7_days_of_the_referral():
    day = dt.timedelta(days=1)
    assert not _w19(cm_contact=REF)
    assert not _w19(cm_contact=REF + 7 * day)
    assert _w19(cm_contact=REF + 8 * day)
    assert not _w19(cm_contact=REF - day)  # contacted before the referral was entered: in time


def test_w19_no_contact_counts_from_the_referral_to_as_of():
    day = dt.timedelta(days=1)
    assert not _w19(cm_contact=None, as_of=REF + 7 * day)
    assert _w19(cm_contact=None, as_of=REF + 8 * day)


def test_w19_a_recorded_late_contact_is_late_whatever_as_of():
    assert _w19(cm_contact=REF + dt.timedelta(days=8), as_of=REF + dt.timedelta(days=2))


def test_w19_earliest_contact_of_the_two_sources():
    day = dt.timedelta(days=1)
    assert not _w19(cm_contact=REF + 9 * day, tracs_contact=REF + 7 * day)
    assert not _w19(cm_contact=REF + 3 * day, tracs_contact=REF + 20 * day)
    assert not _w19(cm_contact=None, tracs_contact=REF + 7 * day)
    assert _w19(cm_contact=None, tracs_contact=REF + 8 * day)
    assert _w19(cm_contact=REF + 8 * day, tracs_contact=REF + 9 * day)
    assert _w19(cm_contact=None, tracs_contact=None)
