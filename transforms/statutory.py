"""The statutory measures of publication.md §1 (50 ILCS 71/25), per counted deflection and per
program (approving unit) and quarter. Pure computation over the deflection mart and the
current evaluations; the published tables and their suppression are publication's.

Everything "as of" uses the as-of date D of the vintage, not that of the last refresh: an
engagement counts when it is dated on or before D, and a deflection has matured at 30 days when
its encounter date + 30 <= D.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from deflect.core.percent import pct_half_up

ENGAGED_RESULTS = ("ENG", "TRT", "CMP")
UNKNOWN = "unknown"
NOT_ENGAGED = "not engaged"
AGE_BANDS = ("<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", UNKNOWN)
# (label, lowest day, highest day) of time to engagement, then NOT_ENGAGED
BUCKETS = (("0-7", 0, 7), ("8-14", 8, 14), ("15-30", 15, 30), ("31-60", 31, 60),
           ("61-90", 61, 90), (">90", 91, None))
BUCKET_LABELS = tuple(b[0] for b in BUCKETS) + (NOT_ENGAGED,)
MATURITY_DAYS = 30
MEDIAN_MIN_VALUES = 10
ISP_ORIGINS = ("ISP_DOP", "ISP_DCI")

PER_DEFLECTION = [
    "deflection_id", "approving_unit_code", "referral_quarter", "referral_date", "pathway",
    "originating_agency_type", "isp", "person_key", "sex", "race", "ethnicity", "age_band",
    "encounter_date", "engagement_date", "days_to_engagement", "engagement_bucket",
    "matured_30", "engaged_30",
]
MEASURES = ["participants", "encounters", "matured_30", "engaged_30", "engagement_rate_30",
            "engaged", "median_days_to_engagement"]


def age_band(age) -> str:
    if age is None or pd.isna(age):
        return UNKNOWN
    age = int(age)
    if age < 18:
        return "<18"
    if age >= 65:
        return "65+"
    for label in AGE_BANDS[1:-2]:
        low, high = (int(x) for x in label.split("-"))
        if low <= age <= high:
            return label
    raise AssertionError(age)


def bucket(days) -> str:
    if days is None or pd.isna(days):
        return NOT_ENGAGED
    for label, low, high in BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    raise AssertionError(days)


def _day(value):
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    return value


def engagement_dates(deflections: pd.DataFrame, evaluations: pd.DataFrame,
                     as_of: dt.date) -> dict[str, dt.date]:
    """deflection_id -> the earliest evaluation with an engagement result, on or after both the
    referral and the encounter date (an earlier one is ignored, as W07) and on or before D."""
    if not len(evaluations) or not len(deflections):
        return {}
    dates = {d: (_day(r), _day(e)) for d, r, e in zip(
        deflections["deflection_id"], deflections["referral_date"], deflections["encounter_date"])}
    out: dict[str, dt.date] = {}
    for did, day, result in zip(evaluations["deflection_id"], evaluations["evaluation_date"],
                                evaluations["result"]):
        day = _day(day)
        if did not in dates or day is None or result not in ENGAGED_RESULTS or day > as_of:
            continue
        referral, encounter = dates[did]
        if (referral is not None and day < referral) or (encounter is not None and day < encounter):
            continue
        if did not in out or day < out[did]:
            out[did] = day
    return out


def per_deflection(deflections: pd.DataFrame, evaluations: pd.DataFrame,
                   as_of: dt.date) -> pd.DataFrame:
    """One row per counted deflection with its §1 attributes as of D (columns PER_DEFLECTION).

    `deflections`: the deflection mart (reporting columns and encounter_date); `evaluations`:
    deflection_id, evaluation_date, result."""
    if not len(deflections):
        return pd.DataFrame(columns=PER_DEFLECTION, dtype=object)
    engaged = engagement_dates(deflections, evaluations, as_of)
    rows = []
    for d in deflections.itertuples(index=False):
        encounter = _day(d.encounter_date) or _day(d.referral_date)
        engagement = engaged.get(d.deflection_id)
        days = (engagement - encounter).days if engagement and encounter else None
        matured = encounter is not None and encounter + dt.timedelta(MATURITY_DAYS) <= as_of
        rows.append({
            "deflection_id": d.deflection_id,
            "approving_unit_code": d.approving_unit_code,
            "referral_quarter": d.referral_quarter,
            "referral_date": _day(d.referral_date),
            "pathway": d.pathway if isinstance(d.pathway, str) else UNKNOWN,
            "originating_agency_type": d.originating_agency_type,
            "isp": d.originating_agency_type in ISP_ORIGINS,
            "person_key": d.person_key if isinstance(d.person_key, str) else None,
            "sex": d.sex if isinstance(d.sex, str) and d.sex else UNKNOWN,
            "race": d.race if isinstance(d.race, str) and d.race else UNKNOWN,
            "ethnicity": d.ethnicity if isinstance(d.ethnicity, str) and d.ethnicity else UNKNOWN,
            "age_band": age_band(d.age_at_referral),
            "encounter_date": encounter,
            "engagement_date": engagement,
            "days_to_engagement": days,
            "engagement_bucket": bucket(days),
            "matured_30": matured,
            "engaged_30": matured and days is not None and days <= MATURITY_DAYS,
        })
    return pd.DataFrame(rows, columns=PER_DEFLECTION, dtype=object)


def median(values: list[int]) -> float | None:
    """The median of the days to engagement (the mean of the middle two for an even count)."""
    if not values:
        return None
    return float(np.median(np.array(values, dtype=float)))


def measures_of(group: pd.DataFrame) -> dict:
    """The §1 measures of a set of deflections (one program and quarter, or a total)."""
    keys = group["person_key"]
    participants = int(keys.dropna().nunique() + keys.isna().sum())
    matured = int(group["matured_30"].astype(bool).sum())
    engaged_30 = int(group["engaged_30"].astype(bool).sum())
    days = [int(x) for x in group["days_to_engagement"] if x is not None and not pd.isna(x)]
    return {
        "participants": participants,
        "encounters": len(group),
        "matured_30": matured,
        "engaged_30": engaged_30,
        "engagement_rate_30": pct_half_up(engaged_30, matured),
        "engaged": len(days),
        "median_days_to_engagement": median(days),
    }


def statutory_measures(rows: pd.DataFrame) -> pd.DataFrame:
    """The §1 measures per (approving_unit_code, referral_quarter) with deflections, before any
    suppression. `rows`: per_deflection()'s frame."""
    out = []
    for (unit, quarter), group in rows.groupby(["approving_unit_code", "referral_quarter"],
                                               sort=True):
        out.append({"approving_unit_code": unit, "referral_quarter": quarter,
                    **measures_of(group)})
    # object columns: an undefined rate or median stays None, not NaN
    return pd.DataFrame(out, columns=["approving_unit_code", "referral_quarter", *MEASURES],
                        dtype=object)
