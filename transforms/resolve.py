"""One row per deflection with each side's values and the authoritative ones (§2).

Side columns are prefixed `t_` (TraCS) and `m_` (MEG); a missing side is all null. For a linked
pair MEG is authoritative for approval, referral date, pathway, evaluations, outcome and prosecutor
submission; TraCS for occurrence date, originating agency, county, sex, race, ethnicity, age
(birth date) and person key. Where the authoritative side is blank the other side's value is used.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.linking import deflection_id


def _side(frame: pd.DataFrame, positions: pd.Series, prefix: str) -> pd.DataFrame:
    # reindex by position: -1 is no row, which gives an all-null row of the right dtypes
    return frame.reindex(positions.to_numpy()).reset_index(drop=True).add_prefix(prefix)


def _first(a: pd.Series, b: pd.Series) -> pd.Series:
    """a where a is not null, else b."""
    return a.where(a.notna(), b)


def resolve(tracs: pd.DataFrame, meg: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    links = links.reset_index(drop=True)
    r = pd.concat([_side(tracs, links["t_i"], "t_"), _side(meg, links["m_i"], "m_")], axis=1)
    r["has_t"] = (links["t_i"] >= 0).to_numpy()
    r["has_m"] = (links["m_i"] >= 0).to_numpy()
    r["by_report"] = links["by_report"].to_numpy()
    r["sources"] = np.where(r["has_t"] & r["has_m"], "TRACS+MEG",
                            np.where(r["has_t"], "TRACS", "MEG")).astype(object)
    r["deflection_id"] = [
        deflection_id([x for x in (tm, mm) if isinstance(x, str)])
        for tm, mm in zip(r["t_member"].to_numpy(dtype=object), r["m_member"].to_numpy(dtype=object))
    ]
    # MEG authoritative
    r["referral"] = _first(r["m_referral"], r["t_referral"])
    r["pathway"] = _first(r["m_pathway"], r["t_pathway"])
    r["outcome"] = r["m_outcome"].where(r["m_outcome"].notna(), "PENDING")
    r["prosecutor"] = r["m_prosecutor"]
    # TraCS authoritative
    r["occurred"] = r["t_occurred"]
    r["origin"] = _first(r["t_origin"], r["m_origin"])
    r["county"] = _first(r["t_county"], r["m_county"])
    r["sex"] = _first(r["t_sex"], r["m_sex"])
    r["race"] = _first(r["t_race"], r["m_race"])
    r["ethnicity"] = r["t_ethnicity"]
    r["age"] = _first(r["t_age"], r["m_age"]).astype("Int64")
    r["person_key"] = _first(r["t_key"], r["m_key"])
    # the approval used: the MEG record's when it has one, else the TraCS one (§3.1); its unit,
    # date and approver role are taken together from the same side
    meg_approves = r["m_unit"].notna()
    tracs_approves = r["t_unit"].notna()
    r["approval_unit"] = _first(r["m_unit"], r["t_unit"])
    r["approval_date"] = r["m_approval_date"].where(
        meg_approves, r["t_approval_date"].where(tracs_approves)
    )
    r["approval_role"] = r["m_role"].where(meg_approves, r["t_role"].where(tracs_approves))
    # the TraCS report number: the form's, or for a deflection only MEG reports the one its case
    # names (they are equal whenever the two are linked)
    r["report"] = _first(r["t_report"], r["m_report"])
    # the day on which an approving unit must be valid (§3.4, W08)
    r["unit_day"] = _first(r["approval_date"], r["referral"])
    return r
