"""reporting.deflection_counts and reporting.followup_compliance."""
import datetime as dt

import pandas as pd

from tests.transforms.builders import D, marts, meg_case, meg_deflection
from transforms.aggregates import followup_compliance, pct_half_up


def test_pct_rounds_half_up_exactly():
    assert pct_half_up(1, 16) == 6.3  # 6.25: round() would give 6.2
    assert pct_half_up(1, 2000) == 0.1  # 0.05
    assert pct_half_up(2, 3) == 66.7
    assert pct_half_up(1, 6) == 16.7
    assert pct_half_up(3, 3) == 100.0
    assert pct_half_up(0, 5) == 0.0
    assert pct_half_up(0, 0) is None


def test_followup_compliance_counts_only_due_ones_as_evaluated():
    d = pd.DataFrame({
        "approving_unit_code": ["SIEG"] * 4 + ["CIEG"],
        "referral_quarter": ["2026-Q3"] * 4 + ["2026-Q4"],
        "due": [True, True, False, True, False],
        "evaluated_within_90_days": [True, False, True, False, False],
        "overdue": [False, True, False, False, False],
    })
    out = followup_compliance(d)
    assert out.to_dict("records") == [
        {"approving_unit_code": "CIEG", "referral_quarter": "2026-Q4", "referrals": 1, "due": 0,
         "evaluated_within_90_days": 0, "overdue": 0, "pct_evaluated_within_90_days": None},
        {"approving_unit_code": "SIEG", "referral_quarter": "2026-Q3", "referrals": 4, "due": 3,
         "evaluated_within_90_days": 1, "overdue": 1, "pct_evaluated_within_90_days": 33.3},
    ]


def test_counts_and_compliance_from_build():
    def deflection(subject, referral, pathway="SELF_REFERRAL", evaluations=()):
        return meg_deflection(subject=subject, referral=referral, approval_date=referral,
                              pathway=pathway, evaluations=evaluations)

    case1 = meg_case(case="SIEG-2026-0001", report=None, subjects={
        i: (f"{i:064x}", "M", "W") for i in range(1, 5)}, deflections=[
        deflection(1, D(2026, 7, 1), evaluations=[D(2026, 8, 1)]),
        deflection(2, D(2026, 7, 2)),
        deflection(3, D(2026, 7, 3), "OFFICER_PREVENTION",
                   evaluations=[D(2026, 7, 3) + dt.timedelta(days=91)]),
        deflection(4, D(2026, 10, 1)),
    ])
    m = marts(case1, as_of=D(2026, 11, 1))
    assert m.deflection_counts.to_dict("records") == [
        {"approving_unit_code": "SIEG", "referral_quarter": "2026-Q3",
         "pathway": "OFFICER_PREVENTION", "deflections": 1},
        {"approving_unit_code": "SIEG", "referral_quarter": "2026-Q3",
         "pathway": "SELF_REFERRAL", "deflections": 2},
        {"approving_unit_code": "SIEG", "referral_quarter": "2026-Q4",
         "pathway": "SELF_REFERRAL", "deflections": 1},
    ]
    rows = m.followup_compliance.to_dict("records")
    assert rows == [
        {"approving_unit_code": "SIEG", "referral_quarter": "2026-Q3", "referrals": 3, "due": 3,
         "evaluated_within_90_days": 1, "overdue": 1, "pct_evaluated_within_90_days": 33.3},
        {"approving_unit_code": "SIEG", "referral_quarter": "2026-Q4", "referrals": 1, "due": 0,
         "evaluated_within_90_days": 0, "overdue": 0, "pct_evaluated_within_90_days": None},
    ]
