"""Attribution to the approving unit (deflection-rules.md §3) and the unit-based flags.

Each rule is one function of the resolved frame (transforms.resolve) returning what it decides;
`attribute` puts them together: the counting unit and the flags W01, W02, W08, W09, W12, W18.
"""
from __future__ import annotations

import pandas as pd

from deflect.core.units import UnitReference
from deflect.core.vocab import UNATTRIBUTED
from transforms.values import out_dates, out_values

MEG_OR_TF = ("MEG", "TASK_FORCE")
# directive III.D: who may approve for each unit type of reference-units.csv
FITTING_ROLES = {"MEG": ("DIRECTOR", "DESIGNEE"), "TASK_FORCE": ("COMMANDER", "DESIGNEE")}


def _days(series: pd.Series) -> list:
    """datetime64 days as datetime.date or None, for the per-deflection reference look-ups."""
    return out_dates(series).tolist()


def _texts(series: pd.Series) -> list:
    return out_values(series).tolist()


def no_approval(r: pd.DataFrame) -> pd.Series:
    """No approving unit code in any source (§3: approval exists when a unit code is given)."""
    return r["approval_unit"].isna()


def rule_w12(r: pd.DataFrame) -> pd.Series:
    """§3.2: MEG/TF-originated, no approval, counted by the exporting unit. Only a MEG record has
    an exporting unit (the case's file Unit); a TraCS-only deflection cannot be MEG/TF-originated
    (TraCS origin is ISP_DOP or ISP_DCI) and, should one be, falls to §3.3 (W01)."""
    return no_approval(r) & r["origin"].isin(MEG_OR_TF) & r["has_m"]


def rule_w01(r: pd.DataFrame) -> pd.Series:
    """§3.3: no approval and not a W12 case: UNATTRIBUTED."""
    return no_approval(r) & ~rule_w12(r)


def rule_w02(r: pd.DataFrame, ref: UnitReference) -> pd.Series:
    """§3.4: the approving unit is not in the reference, or not valid on the approval date (the
    referral date when the approval has no date). No fallback to the other side's unit."""
    return pd.Series([
        isinstance(unit, str) and (day is None or ref.period_on(unit, day) is None)
        for unit, day in zip(_texts(r["approval_unit"]), _days(r["unit_day"]))
    ], index=r.index, dtype=bool)


def rule_w09(r: pd.DataFrame) -> pd.Series:
    """Both sources name an approving unit and they differ (counted under the MEG's)."""
    return r["t_unit"].notna() & r["m_unit"].notna() & (r["t_unit"] != r["m_unit"])


def counting_unit(r: pd.DataFrame, w01, w02, w12) -> pd.Series:
    unit = r["approval_unit"].astype(object).copy()
    unit[w12] = r.loc[w12, "m_exporting_unit"]
    unit[w01 | w02] = UNATTRIBUTED
    return unit


def rule_w08(r: pd.DataFrame, unit: pd.Series, ref: UnitReference) -> pd.Series:
    """County outside the counting unit's counties on the approval date (the referral date when
    the approval has none), when that unit's reference row lists counties. Skipped for
    UNATTRIBUTED, and for a unit with no reference row valid that day (a W12 exporting unit can
    be such a unit). A null county is not "outside" (both sources always carry one)."""
    out = []
    for u, day, county in zip(_texts(unit), _days(r["unit_day"]), _texts(r["county"])):
        if u == UNATTRIBUTED or not isinstance(u, str) or day is None or not isinstance(county, str):
            out.append(False)
            continue
        p = ref.period_on(u, day)
        out.append(p is not None and bool(p.counties) and county not in p.counties)
    return pd.Series(out, index=r.index, dtype=bool)


def rule_w18(r: pd.DataFrame, ref: UnitReference) -> pd.Series:
    """Directive III.D, deflection-rules.md §5 W18: the role of the approval that attributes the
    deflection (§3.1: the MEG record's, else the TraCS one's) does not fit the approving unit's
    type on the approval date (the referral date when the approval has none): a MEG is approved
    by its director or a designee, a task force by its commander or a designee. A blank role
    fits nothing. Only a deflection attributed through an approval is looked at: no approval
    (W01, W12) or a unit not in the reference that day (W02) has no unit type to fit."""
    out = []
    for unit, day, role in zip(_texts(r["approval_unit"]), _days(r["unit_day"]),
                               _texts(r["approval_role"])):
        p = ref.period_on(unit, day) if isinstance(unit, str) and day is not None else None
        fitting = FITTING_ROLES.get(p.unit_type) if p is not None else None
        out.append(fitting is not None and role not in fitting)
    return pd.Series(out, index=r.index, dtype=bool)


def attribute(r: pd.DataFrame, ref: UnitReference) -> tuple[pd.Series, dict[str, pd.Series]]:
    """The counting unit of every deflection, and the attribution flags."""
    w12, w01, w02 = rule_w12(r), rule_w01(r), rule_w02(r, ref)
    unit = counting_unit(r, w01, w02, w12)
    return unit, {"W01": w01, "W02": w02, "W08": rule_w08(r, unit, ref),
                  "W09": rule_w09(r), "W12": w12, "W18": rule_w18(r, ref)}
