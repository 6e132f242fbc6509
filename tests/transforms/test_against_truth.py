"""Random small worlds through build_marts and through the generator's independent ground-truth
rules (generator/truth.py): both must conclude the same rows, flags and aggregates."""
import datetime as dt
import random
from types import SimpleNamespace

import pytest

from deflect.core.person_key import age_in_years
from deflect.core.units import UnitReference
from generator import truth
from tests.transforms.builders import UNITS, marts, meg_case, meg_deflection, person, tracs_form

UNIT_CHOICES = ["SIEG", "KAMEG", "BATF", "NCIT", "NOPE", None]
COUNTIES = ["17199", "17091", "17031", "17085"]
PATHWAYS = ["SELF_REFERRAL", "OFFICER_PREVENTION", "OFFICER_INTERVENTION"]
ROLES = ["DIRECTOR", "COMMANDER", "DESIGNEE"]
REFERENCE = UnitReference(UNITS)


def world(seed):
    rnd = random.Random(seed)
    day = lambda lo, hi: dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randint(lo, hi))
    maybe = lambda p, v: v if rnd.random() < p else None
    keys = [f"{i:064x}" for i in range(4)] + [None]
    reports = [f"ISP26-00000{i}" for i in range(4)]
    records, tsides, msides = [], [], []
    for f in range(rnd.randint(0, 5)):
        form, report = f"FR-26-000000{f}", rnd.choice(reports)
        occurred, export = day(0, 200), day(150, 260)
        county, origin = rnd.choice(COUNTIES), rnd.choice(["ISP_DOP", "ISP_DCI"])
        items = [(rnd.choice("YN"), rnd.choice(["HELD", "DESTROYED", None]))
                 for _ in range(rnd.randint(0, 2))]
        people = []
        for seq in range(1, rnd.randint(1, 3) + 1):
            referral = occurred + dt.timedelta(days=rnd.randint(-2, 5))
            dob = maybe(0.9, dt.date(rnd.choice([1960, 1990, 2020]), 5, 5))
            d = {"key": rnd.choice(keys), "sex": maybe(0.8, "M"), "race": maybe(0.8, "W"),
                     "ethnicity": maybe(0.8, "N"), "pathway": rnd.choice(PATHWAYS),
                     "unit": rnd.choice(UNIT_CHOICES), "referral": referral,
                     "approval_date": maybe(0.8, referral + dt.timedelta(days=rnd.randint(-1, 1))),
                     "abeyance": rnd.choice(["Y", "N", None]), "age": age_in_years(dob, referral),
                     "role": rnd.choice([*ROLES, None]),
                     "cm_contact": maybe(0.5, referral + dt.timedelta(days=rnd.randint(-1, 12)))}
            people.append(person(seq=seq, **d))
            tsides.append(truth.TSide(
                member=f"TRACS:{form}:{seq}", report=report, key=d["key"], occurred=occurred,
                origin=origin, county=county, sex=d["sex"], race=d["race"],
                ethnicity=d["ethnicity"], dob=dob, referral=referral, pathway=d["pathway"],
                unit=d["unit"], approval_date=d["approval_date"], cm_contact=d["cm_contact"], abeyance=d["abeyance"],
                items=tuple(SimpleNamespace(seized=s, status=st) for s, st in items),
                export_date=export, role=d["role"]))
        records.append(tracs_form(record_id=form, report=report, occurred=occurred,
                                  county=county, origin=origin, export_date=export,
                                  people=people, items=items))
    for c in range(rnd.randint(0, 5)):
        unit = rnd.choice(["SIEG", "KAMEG", "BATF"])
        case, report = f"{unit}-2026-000{c}", maybe(0.8, rnd.choice(reports))
        county, origin = rnd.choice(COUNTIES), rnd.choice(["ISP_DOP", "MEG", "TASK_FORCE", "LOCAL"])
        export = day(150, 260)
        subjects, defls = {}, []
        for sid in range(1, rnd.randint(1, 2) + 1):
            key = rnd.choice(keys)
            referral = day(0, 200)
            dob = maybe(0.9, dt.date(rnd.choice([1960, 1990, 2020]), 5, 5))
            approving = rnd.choice(UNIT_CHOICES)
            evals = sorted(referral + dt.timedelta(days=rnd.randint(-3, 150))
                           for _ in range(rnd.randint(0, 3)))
            d = meg_deflection(subject=sid, referral=referral, pathway=rnd.choice(PATHWAYS),
                               unit=approving,
                               approval_date=referral + dt.timedelta(days=rnd.randint(-1, 1)),
                               evaluations=evals,
                               outcome=rnd.choice(["PENDING", "SUCCESSFUL", "UNSUCCESSFUL"]),
                               prosecutor=maybe(0.3, day(100, 250)),
                               disposal=maybe(0.3, day(100, 250)),
                               disposal_method=rnd.choice(["DESTROYED", "RETURNED", "RETAINED"]),
                               role=rnd.choice(ROLES),
                               age=age_in_years(dob, referral),
                               cm_contact=maybe(0.5, referral + dt.timedelta(days=rnd.randint(-1, 12))))
            subjects[sid] = (key, "F", "B")
            defls.append(d)
            msides.append(truth.MSide(
                member=f"MEG:{unit}/{case}:{sid}", report=report, key=key, exporting_unit=unit,
                origin={"ISP_DOP": "ISP_DOP", "MEG": "MEG", "TASK_FORCE": "TASK_FORCE",
                        "LOCAL": "LOCAL"}[origin], county=county, sex="F", race="B", dob=dob,
                referral=referral, pathway=d["pathway"], unit=approving,
                approval_date=d["approval_date"] if approving else None,
                cm_contact=d["cm_contact"], evaluations=[(e, "ENG") for e in evals],
                outcome=d["outcome"], prosecutor=d["prosecutor"], disposal=d["disposal"],
                export_date=export, role=d["role"] if approving else None,
                disposal_method=d["disposal_method"] if d["disposal"] else None))
        records.append(meg_case(case=case, unit=unit, report=report, origin=origin, county=county,
                                export_date=export, subjects=subjects, deflections=defls))
    return records, tsides, msides


def expected_rows(tsides, msides, as_of):
    rows = [truth.row(t, m, w10, REFERENCE, as_of) for t, m, w10 in truth.link(tsides, msides)]
    for r in rows:
        for k in [k for k in r if k.startswith("_")]:  # the truth's own working values
            r.pop(k)
    return sorted(rows, key=lambda r: r["deflection_id"])


def actual_rows(m):
    out = []
    for r in m.deflection.to_dict("records"):
        r = {k: v for k, v in r.items() if k in truth_columns()}
        for k in ("referral_date", "first_evaluation_date", "prosecutor_submission_date"):
            r[k] = r[k].isoformat() if r[k] else None
        out.append(r)
    return out


def truth_columns():
    from transforms.marts import REPORTING_COLUMNS
    return set(REPORTING_COLUMNS)


def _agree(seeds, as_of):
    for seed in seeds:
        records, tsides, msides = world(seed)
        m = marts(*records, as_of=as_of)
        assert actual_rows(m) == expected_rows(tsides, msides, as_of), seed


def test_build_marts_agrees_with_the_ground_truth_rules():
    _agree(range(40), dt.date(2026, 9, 1))


@pytest.mark.slow
def test_build_marts_agrees_with_the_ground_truth_rules_many_worlds():
    for as_of in (dt.date(2026, 5, 1), dt.date(2026, 9, 1), dt.date(2027, 3, 1)):
        _agree(range(1000, 1200), as_of)
