"""Quality flags of deflection-rules.md §5 that are neither attribution nor follow-up:
W03, W04, W05, W06, W10, W11, W13, W14, W20. One function per rule over the resolved frame."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

ISP_ORIGINS = ("ISP_DOP", "ISP_DCI")
UNREPORTED_DAYS = 30

# event dates of each side, compared with the export date of the file that delivered that side's
# current version (TraCS `createdAt` as a Chicago date, MEG `ExportDate`)
TRACS_EVENTS = ("t_occurred", "t_approval_date", "t_referral", "t_cm_contact")
MEG_EVENTS = ("m_approval_date", "m_referral", "m_cm_contact", "m_prosecutor", "m_disposal_date")


def rule_w03(r: pd.DataFrame) -> pd.Series:
    """The approval used (§3.1) is dated after the (authoritative) referral date."""
    return (r["approval_unit"].notna() & (r["approval_date"] > r["referral"])).astype(bool)


def rule_w04(r: pd.DataFrame) -> pd.Series:
    """The (authoritative) referral is before the TraCS occurrence date."""
    return (r["referral"] < r["occurred"]).astype(bool)


def rule_w05(r: pd.DataFrame) -> pd.Series:
    """Officer prevention (authoritative pathway) with TraCS charges held in abeyance = Y;
    only where TraCS reports the deflection."""
    return (r["has_t"] & (r["pathway"] == "OFFICER_PREVENTION") & (r["t_abeyance"] == "Y")).astype(bool)


def rule_w06(r: pd.DataFrame) -> pd.Series:
    """Officer intervention (authoritative pathway) with TraCS charges held in abeyance blank;
    only where TraCS reports the deflection."""
    return (r["has_t"] & (r["pathway"] == "OFFICER_INTERVENTION") & r["t_abeyance"].isna()).astype(bool)


def rule_w10(r: pd.DataFrame) -> pd.Series:
    """Linked by report number only (pass 2)."""
    return r["by_report"].astype(bool)


def rule_w11(r: pd.DataFrame) -> pd.Series:
    """A MEG deflection naming a TraCS report and left unlinked after both passes."""
    return (r["has_m"] & ~r["has_t"] & r["m_report"].notna()).astype(bool)


def rule_w13(r: pd.DataFrame) -> pd.Series:
    """Age at referral under 10 or over 100."""
    age = r["age"].astype("Float64")
    return ((age < 10) | (age > 100)).fillna(False).astype(bool)


def rule_w14(r: pd.DataFrame, ev: pd.DataFrame) -> pd.Series:
    """An event date after the export date of the file that delivered the current version: each
    side's own events against its own file (TraCS: occurrence, approval, referral, case-manager
    contact; MEG: approval, referral, case-manager contact, every current evaluation, prosecutor
    submission, evidence disposal)."""
    late = np.zeros(len(r), dtype=bool)
    for col in TRACS_EVENTS:
        late |= (r[col] > r["t_export_date"]).to_numpy()
    for col in MEG_EVENTS:
        late |= (r[col] > r["m_export_date"]).to_numpy()
    rows = ev["row"].to_numpy()
    late_eval = ev["evaluation_date"].to_numpy() > r["m_export_date"].to_numpy()[rows]
    late |= np.isin(np.arange(len(r)), rows[late_eval])
    return pd.Series(late, index=r.index)


def rule_w20(r: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Directive III.E.3, deflection-rules.md §5 W20: ISP-originated (ISP_DOP/ISP_DCI), reported
    by TraCS only, and D 30 days or more after the referral: the approving unit has not reported
    it in its own program. Whatever the attribution: with no approval (W01) or an unknown unit
    (W02) no MEG or task force has reported it either."""
    only_tracs = r["has_t"] & ~r["has_m"]
    waited = (pd.Timestamp(as_of) - r["referral"]).dt.days >= UNREPORTED_DAYS
    return (r["origin"].isin(ISP_ORIGINS) & only_tracs & waited.fillna(False)).astype(bool)
