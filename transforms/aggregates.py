"""reporting.deflection_counts and reporting.followup_compliance (reporting-contract.md)."""
from __future__ import annotations

import pandas as pd

from deflect.core.percent import pct_half_up

COUNT_COLUMNS = ["approving_unit_code", "referral_quarter", "pathway", "deflections"]
COMPLIANCE_COLUMNS = ["approving_unit_code", "referral_quarter", "referrals", "due",
                      "evaluated_within_90_days", "overdue", "pct_evaluated_within_90_days"]


def deflection_counts(d: pd.DataFrame) -> pd.DataFrame:
    """Deflections by approving unit, referral quarter and pathway: non-empty combinations."""
    if not len(d):
        return pd.DataFrame(columns=COUNT_COLUMNS).astype({"deflections": "int64"})
    out = (d.groupby(["approving_unit_code", "referral_quarter", "pathway"], dropna=False)
           .size().rename("deflections").reset_index())
    return out.sort_values(COUNT_COLUMNS[:3], kind="stable").reset_index(drop=True)[COUNT_COLUMNS]


def followup_compliance(d: pd.DataFrame) -> pd.DataFrame:
    """Per (unit, quarter): referrals, due, evaluated within 90 days among the due ones, overdue,
    and the percentage. `d` needs approving_unit_code, referral_quarter, due (bool),
    evaluated_within_90_days (bool), overdue (bool)."""
    if not len(d):
        return pd.DataFrame(columns=COMPLIANCE_COLUMNS)
    frame = pd.DataFrame({
        "approving_unit_code": d["approving_unit_code"],
        "referral_quarter": d["referral_quarter"],
        "referrals": 1,
        "due": d["due"].astype(int),
        "evaluated_within_90_days": (d["due"] & d["evaluated_within_90_days"]).astype(int),
        "overdue": d["overdue"].astype(int),
    })
    out = frame.groupby(["approving_unit_code", "referral_quarter"], dropna=False).sum().reset_index()
    out["pct_evaluated_within_90_days"] = pd.Series(
        [pct_half_up(int(e), int(n)) for e, n in zip(out["evaluated_within_90_days"], out["due"])],
        index=out.index, dtype=object)
    out = out.sort_values(["approving_unit_code", "referral_quarter"], kind="stable")
    return out.reset_index(drop=True)[COMPLIANCE_COLUMNS]
