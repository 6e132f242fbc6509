"""Follow-up as of a date D (deflection-rules.md §4): evaluations, due, overdue, W07, W15–W17,
W19.

Evaluations come from MEG only (a TraCS-only deflection has none and outcome PENDING). One dated
before the referral is W07 and otherwise ignored; everything "as of D" uses only evaluations dated
on or after the referral and on or before D.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DUE_DAYS = 90
GAP_DAYS = 92  # a calendar quarter has at most 92 days
PROSECUTOR_DAYS = 30
CASE_MANAGER_DAYS = 7  # directive III.C, as deflection-rules.md §4 reads it
FINAL = ("SUCCESSFUL", "UNSUCCESSFUL")
DISPOSED = ("DESTROYED", "RETURNED")


def deflection_evaluations(r: pd.DataFrame, evals: pd.DataFrame) -> pd.DataFrame:
    """Every current evaluation of each deflection reported by MEG: `row` (position in r),
    `evaluation_date`."""
    keys = pd.DataFrame({"row": np.arange(len(r)), "record_id": r["m_record_id"].to_numpy(),
                         "subject": r["m_subject"].to_numpy()})
    keys = keys[r["has_m"].to_numpy()]
    return keys.merge(evals, on=["record_id", "subject"], how="inner")[["row", "evaluation_date"]]


def rule_w07(r: pd.DataFrame, ev: pd.DataFrame) -> pd.Series:
    """An evaluation dated before the referral (any current one, whatever D)."""
    referral = r["referral"].to_numpy()[ev["row"].to_numpy()]
    early = ev["row"][ev["evaluation_date"].to_numpy() < referral]
    return pd.Series(np.isin(np.arange(len(r)), early.to_numpy()), index=r.index)


def counted_evaluations(r: pd.DataFrame, ev: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The evaluations that count as of D: referral <= date <= D, sorted by row and date."""
    referral = r["referral"].to_numpy()[ev["row"].to_numpy()]
    dates = ev["evaluation_date"].to_numpy()
    ok = (dates >= referral) & (dates <= np.datetime64(as_of, "ns"))
    return ev[ok].sort_values(["row", "evaluation_date"], kind="stable").reset_index(drop=True)


def first_and_last(r: pd.DataFrame, counted: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    g = counted.groupby("row")["evaluation_date"]
    rows = pd.RangeIndex(len(r))
    first = g.min().reindex(rows)
    last = g.max().reindex(rows)
    return (pd.Series(first.to_numpy(), index=r.index, dtype="datetime64[ns]"),
            pd.Series(last.to_numpy(), index=r.index, dtype="datetime64[ns]"))


def due_date(r: pd.DataFrame) -> pd.Series:
    """Due date of the first evaluation: referral + 90 days."""
    return r["referral"] + pd.Timedelta(days=DUE_DAYS)


def evaluated_within_90_days(r: pd.DataFrame, first: pd.Series) -> pd.Series:
    return (first.notna() & (first <= due_date(r))).astype(bool)


def is_due(r: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """The first evaluation was due on or before D."""
    return (due_date(r) <= pd.Timestamp(as_of)).astype(bool)


def is_overdue(r: pd.DataFrame, first: pd.Series, as_of: dt.date) -> pd.Series:
    """PENDING, no evaluation (as of D), and D after the due date."""
    return ((r["outcome"] == "PENDING") & first.isna()
            & (pd.Timestamp(as_of) > due_date(r))).astype(bool)


def rule_w15(r: pd.DataFrame, counted: pd.DataFrame, last: pd.Series, as_of: dt.date) -> pd.Series:
    """PENDING and more than 92 days between the referral and the first evaluation, two
    consecutive evaluations, or the last evaluation (with none, the referral) and D."""
    rows = counted["row"].to_numpy()
    dates = counted["evaluation_date"].to_numpy()
    previous = r["referral"].to_numpy()[rows]  # the first evaluation of a row: from the referral
    if len(rows):
        same_row = np.r_[False, rows[1:] == rows[:-1]]
        previous = np.where(same_row, np.r_[dates[:1], dates[:-1]], previous)
    gap = (dates - previous) > np.timedelta64(GAP_DAYS, "D")
    inner = np.isin(np.arange(len(r)), rows[gap])
    tail_from = last.where(last.notna(), r["referral"])
    tail = ((pd.Timestamp(as_of) - tail_from).dt.days > GAP_DAYS).to_numpy()
    return pd.Series((r["outcome"] == "PENDING").to_numpy() & (inner | tail), index=r.index)


def rule_w16(r: pd.DataFrame, last: pd.Series, as_of: dt.date) -> pd.Series:
    """UNSUCCESSFUL, no prosecutor submission, D more than 30 days after the last evaluation
    (with none, the referral)."""
    since = last.where(last.notna(), r["referral"])
    late = (pd.Timestamp(as_of) - since).dt.days > PROSECUTOR_DAYS
    return ((r["outcome"] == "UNSUCCESSFUL") & r["prosecutor"].isna() & late).astype(bool)


def rule_w17(r: pd.DataFrame, items: pd.DataFrame) -> pd.Series:
    """Directive III.D.2–3 and III.E.2, deflection-rules.md §4: final outcome, an item of the
    deflection's own TraCS form seized and neither DESTROYED nor RETURNED (a blank status is
    neither), and no MEG EvidenceDisposal with Method DESTROYED or RETURNED (RETAINED evidence
    is still held: not a disposal)."""
    held = items[(items["seized"] == "Y") & ~items["item_status"].isin(DISPOSED)]
    has_held = r["t_record_id"].isin(set(held["record_id"])) & r["has_t"]
    disposed = r["m_disposal_method"].isin(DISPOSED)
    return (r["outcome"].isin(FINAL) & has_held & ~disposed).astype(bool)


def case_manager_contact(r: pd.DataFrame) -> pd.Series:
    """The case-manager contact date (§4): the earliest of TraCS's and MEG's, null when neither
    source gives one."""
    return r[["t_cm_contact", "m_cm_contact"]].min(axis=1, skipna=True).astype("datetime64[ns]")


def rule_w19(r: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Directive III.C, deflection-rules.md §4: the case manager was not contacted within 7 days
    of the referral: no contact date and D more than 7 days after the referral, or a contact more
    than 7 days after the referral. A recorded contact date is taken whatever D (as W07 takes
    every evaluation); only the missing contact waits for D."""
    contact = case_manager_contact(r)
    late = (contact - r["referral"]).dt.days > CASE_MANAGER_DAYS
    missing = contact.isna() & ((pd.Timestamp(as_of) - r["referral"]).dt.days > CASE_MANAGER_DAYS)
    return (late.fillna(False) | missing).astype(bool)
