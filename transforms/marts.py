"""build_marts: from the current rows to every mart behind the `reporting` views."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deflect.core.dates import quarter_of
from deflect.core.rules import RULES
from deflect.core.units import UnitPeriod, UnitReference
from transforms import attribution, followup, quality
from transforms.aggregates import deflection_counts, followup_compliance
from transforms.current import CurrentRows, counted_meg, counted_tracs
from transforms.linking import link
from transforms.resolve import resolve
from transforms.values import day_column, ident_column, out_dates, out_values

REPORTING_COLUMNS = [
    "deflection_id", "person_key", "referral_date", "referral_quarter", "pathway",
    "approving_unit_code", "originating_agency_type", "county_fips", "sources", "sex", "race",
    "ethnicity", "age_at_referral", "first_evaluation_date", "evaluated_within_90_days",
    "outcome", "prosecutor_submission_date", "flags",
]
INTERNAL_COLUMNS = ["tracs_record_id", "tracs_seq", "meg_record_id", "meg_subject_id",
                    "first_due_date", "overdue", "approval_date", "tracs_report_number",
                    "encounter_date"]
FLAG_COLUMNS = ["deflection_id", "code", "source", "file_name", "record_id", "line", "message"]

# the `what` of deflection-rules.md §5 (the one catalogue); no personal data
MESSAGES = {c: r.message for c, r in RULES.items() if r.level == "deflection"}


@dataclass
class Marts:
    deflection: pd.DataFrame
    deflection_flag: pd.DataFrame
    deflection_counts: pd.DataFrame
    followup_compliance: pd.DataFrame
    evaluation: pd.DataFrame  # fct_evaluation: the current evaluations of each deflection


def evaluate_flags(r: pd.DataFrame, ev: pd.DataFrame, items: pd.DataFrame,
                   ref: UnitReference, as_of: dt.date) -> tuple[pd.Series, dict, dict]:
    """The counting unit, the follow-up figures and every W-flag (code -> boolean Series)."""
    unit, flags = attribution.attribute(r, ref)
    counted = followup.counted_evaluations(r, ev, as_of)
    first, last = followup.first_and_last(r, counted)
    flags.update({
        "W03": quality.rule_w03(r),
        "W04": quality.rule_w04(r),
        "W05": quality.rule_w05(r),
        "W06": quality.rule_w06(r),
        "W07": followup.rule_w07(r, ev),
        "W10": quality.rule_w10(r),
        "W11": quality.rule_w11(r),
        "W13": quality.rule_w13(r),
        "W14": quality.rule_w14(r, ev),
        "W15": followup.rule_w15(r, counted, last, as_of),
        "W16": followup.rule_w16(r, last, as_of),
        "W17": followup.rule_w17(r, items),
        "W19": followup.rule_w19(r, as_of),
        "W20": quality.rule_w20(r, as_of),
    })
    follow = {
        "first": first,
        "within": followup.evaluated_within_90_days(r, first),
        "due": followup.is_due(r, as_of),
        "overdue": followup.is_overdue(r, first, as_of),
        "due_date": followup.due_date(r),
    }
    return unit, flags, follow


def flags_text(flags: dict[str, pd.Series], n: int) -> np.ndarray:
    """Comma-separated sorted codes per deflection, '' when none."""
    text = np.full(n, "", dtype=object)
    for code in sorted(flags):
        on = flags[code].to_numpy(dtype=bool)
        text[on] = text[on] + code + ","
    has = text != ""
    text[has] = [t[:-1] for t in text[has]]
    return text


def flag_rows(r: pd.DataFrame, flags: dict[str, pd.Series]) -> pd.DataFrame:
    """One row per (deflection, code) that applies, with the lineage of the record to cite: the
    MEG deflection's for a deflection MEG reports, else the TraCS one's. Ordered by deflection
    (the order of r) then code."""
    meg = r["has_m"].to_numpy(dtype=bool)

    def pick(col: str) -> np.ndarray:
        return np.where(meg, out_values(r["m_" + col]), out_values(r["t_" + col]))

    lineage = {"deflection_id": r["deflection_id"].to_numpy(dtype=object),
               "source": pick("source"), "file_name": pick("file_name"),
               "record_id": pick("record_id"), "line": pick("line")}
    rows, codes = [], []
    for code in sorted(flags):
        hit = np.flatnonzero(flags[code].to_numpy(dtype=bool))
        rows.append(hit)
        codes.append(np.full(len(hit), code, dtype=object))
    if not rows or not sum(len(x) for x in rows):
        return pd.DataFrame(columns=FLAG_COLUMNS, dtype=object)
    row = np.concatenate(rows)
    code = np.concatenate(codes)
    order = np.argsort(row, kind="stable")  # codes were appended in sorted order
    row, code = row[order], code[order]
    out = {c: v[row] for c, v in lineage.items()}
    out["code"] = code
    out["message"] = np.array([MESSAGES[c] for c in code], dtype=object)
    return pd.DataFrame(out, columns=FLAG_COLUMNS, dtype=object)


def _first_date(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.where(a.notna(), b)


def deflection_frame(r, unit, flags, follow) -> pd.DataFrame:
    n = len(r)
    out = pd.DataFrame({
        "deflection_id": r["deflection_id"].to_numpy(dtype=object),
        "person_key": out_values(r["person_key"]),
        "referral_date": out_dates(r["referral"]),
        "referral_quarter": [None if pd.isna(d) else quarter_of(d) for d in r["referral"]],
        "pathway": out_values(r["pathway"]),
        "approving_unit_code": out_values(unit),
        "originating_agency_type": out_values(r["origin"]),
        "county_fips": out_values(r["county"]),
        "sources": r["sources"].to_numpy(dtype=object),
        "sex": out_values(r["sex"]),
        "race": out_values(r["race"]),
        "ethnicity": out_values(r["ethnicity"]),
        "age_at_referral": out_values(r["age"]),
        "first_evaluation_date": out_dates(follow["first"]),
        "evaluated_within_90_days": follow["within"].to_numpy(dtype=bool),
        "outcome": out_values(r["outcome"]),
        "prosecutor_submission_date": out_dates(r["prosecutor"]),
        "flags": flags_text(flags, n),
        "tracs_record_id": out_values(r["t_record_id"]),
        "tracs_seq": out_values(r["t_seq"]),
        "meg_record_id": out_values(r["m_record_id"]),
        "meg_subject_id": out_values(r["m_subject"]),
        "first_due_date": out_dates(follow["due_date"]),
        "overdue": follow["overdue"].to_numpy(dtype=bool),
        "approval_date": out_dates(r["approval_date"]),
        "tracs_report_number": out_values(r["report"]),
        # publication.md §1: the TraCS form's summaryDateOccurred; for a MEG-only deflection,
        # or when it is blank, the referral date
        "encounter_date": out_dates(_first_date(r["occurred"], r["referral"])),
    }, columns=REPORTING_COLUMNS + INTERNAL_COLUMNS, dtype=object)  # None stays None
    for c in ("evaluated_within_90_days", "overdue"):
        out[c] = out[c].astype(bool)
    return out


def build_marts(current: CurrentRows, units: list[UnitPeriod], as_of: dt.date) -> Marts:
    """Every mart as of `as_of` from the current versions of every record."""
    tracs, items = counted_tracs(current)
    meg, evals = counted_meg(current)
    r = resolve(tracs, meg, link(tracs, meg))
    ev = followup.deflection_evaluations(r, evals)
    unit, flags, follow = evaluate_flags(r, ev, items, UnitReference(units), as_of)

    order = np.argsort(r["deflection_id"].to_numpy(), kind="stable")
    r = r.iloc[order].reset_index(drop=True)
    unit = unit.iloc[order].reset_index(drop=True)
    flags = {c: s.iloc[order].reset_index(drop=True) for c, s in flags.items()}
    follow = {c: s.iloc[order].reset_index(drop=True) for c, s in follow.items()}

    deflection = deflection_frame(r, unit, flags, follow)
    counts = deflection_counts(deflection)
    compliance = followup_compliance(deflection.assign(due=follow["due"].to_numpy(dtype=bool)))
    return Marts(
        deflection=deflection,
        deflection_flag=flag_rows(r, flags),
        deflection_counts=counts,
        followup_compliance=compliance,
        evaluation=evaluation_frame(current, deflection),
    )


def evaluation_frame(current: CurrentRows, deflections: pd.DataFrame) -> pd.DataFrame:
    """The current evaluations of each counted deflection reported by MEG, and whether each is
    dated before the referral (W07)."""
    cols = ["deflection_id", "evaluation_date", "result", "before_referral"]
    evals = current.meg_evaluation
    if evals is None or not len(evals) or not len(deflections):
        return pd.DataFrame(columns=cols, dtype=object)
    linked = deflections[deflections["meg_record_id"].notna()][
        ["deflection_id", "meg_record_id", "meg_subject_id", "referral_date"]
    ]
    evals = evals.assign(evaluation_date=out_dates(day_column(evals["evaluation_date"])),
                         subject_id=ident_column(evals["subject_id"]))
    merged = evals.merge(
        linked, left_on=["record_id", "subject_id"], right_on=["meg_record_id", "meg_subject_id"]
    )
    merged["before_referral"] = [
        None if e is None or r is None or pd.isna(e) or pd.isna(r) else bool(e < r)
        for e, r in zip(merged["evaluation_date"], merged["referral_date"])
    ]
    return merged[cols].astype(object)
