"""What counts now (deflection-rules.md §1): the counted TraCS and MEG deflections, one row each.

The warehouse passes the current version of every record. The selection is repeated here
defensively (it is cheap and keeps the rules right on any input): highest `form_version` per
TraCS form, newest `last_modified` per MEG case, the first row given wins on ties (the
first-loaded copy), and a withdrawn current version (`Voided`, `VOID`) withdraws everything in it.
Only the records that carry a deflection are looked at, so a year of forms costs little.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

from transforms.values import (
    day_column,
    ident_column,
    instant_column,
    int_column,
    text_column,
)

_VERSIONED = ("source", "file_name", "file_sha256", "line", "record_id")
# The rules' input contract: for each attribute of CurrentRows, the staging table it comes from
# and the columns the rules read of it (tests/test_contracts.py checks that the adapters' tables
# have them). Other columns may be present; they are carried and ignored.
READS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tracs_field_report": ("stg_tracs__field_report", _VERSIONED + (
        "form_version", "status", "export_date", "report_number", "date_occurred",
        "originating_agency_type", "county_fips")),
    "tracs_individual": ("stg_tracs__individual", _VERSIONED + (
        "form_version", "seq", "disposition", "person_key", "sex", "race", "ethnicity")),
    "tracs_deflection": ("stg_tracs__deflection", _VERSIONED + (
        "form_version", "seq", "pathway", "approving_unit", "approver_role", "approval_date",
        "approved_at", "referral_date", "case_manager_contact_date",
        "charges_held_in_abeyance", "age_at_referral")),
    "tracs_evidence_item": ("stg_tracs__evidence_item", _VERSIONED + (
        "form_version", "seq", "seized", "item_status")),
    "meg_case": ("stg_meg__case", _VERSIONED + (
        "last_modified", "status", "unit", "export_date", "originating_agency_type",
        "tracs_report_number", "county_fips")),
    "meg_subject": ("stg_meg__subject", _VERSIONED + (
        "last_modified", "subject_id", "person_key", "sex", "race")),
    "meg_deflection": ("stg_meg__deflection", _VERSIONED + (
        "last_modified", "subject_id", "referral_date", "pathway", "approving_unit",
        "approver_role", "approval_date", "approved_at", "case_manager_contact_date",
        "prosecutor_submission_date", "evidence_disposal_date", "evidence_disposal_method",
        "outcome", "age_at_referral")),
    "meg_evaluation": ("stg_meg__evaluation", _VERSIONED + (
        "last_modified", "subject_id", "evaluation_date", "result")),
}


# The rules look only at records whose current version has a row in one of these tables (the
# records that carry a deflection): counted_tracs and counted_meg start from them, and
# fct_evaluation joins evaluations to counted deflections. The warehouse need not read others.
RECORDS_WITH_ROWS_IN = ("stg_tracs__deflection", "stg_meg__deflection")


@dataclass
class CurrentRows:
    """Current versions only, one frame per staging table (see READS)."""

    tracs_field_report: pd.DataFrame
    tracs_individual: pd.DataFrame
    tracs_deflection: pd.DataFrame
    tracs_evidence_item: pd.DataFrame
    meg_case: pd.DataFrame
    meg_subject: pd.DataFrame
    meg_deflection: pd.DataFrame
    meg_evaluation: pd.DataFrame

    @classmethod
    def empty(cls) -> CurrentRows:
        return cls(**{f.name: _empty(f.name) for f in fields(cls)})

    @classmethod
    def from_tables(cls, frames) -> CurrentRows:
        """From staging table name -> frame (what warehouse.current_rows gives); a table that
        is not there is empty."""
        return cls(**{f.name: frames.get(READS[f.name][0], _empty(f.name)) for f in fields(cls)})


def _empty(attr: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(READS[attr][1]), dtype=object)


def _frame(current, attr: str) -> pd.DataFrame:
    """The attribute's frame with every column the rules read (missing ones null), own index."""
    frame = getattr(current, attr, None)
    if frame is None:
        return _empty(attr)
    frame = frame.reset_index(drop=True)
    for c in READS[attr][1]:
        if c not in frame.columns:
            frame[c] = None
    return frame


def _is(series: pd.Series, value: str) -> pd.Series:
    return text_column(series).eq(value).fillna(False).astype(bool)


def _keep_current(parent: pd.DataFrame, version: pd.Series, children: list[pd.DataFrame],
                  child_versions: list[pd.Series]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The current row of each record (highest version, first row on ties) and its children:
    rows of the same record, version and file."""
    parent = parent.assign(_v=version, _sha=text_column(parent["file_sha256"]).fillna(""))
    parent = parent[parent["_v"].notna()]
    top = parent.groupby("record_id", sort=False)["_v"].transform("max")
    parent = parent[parent["_v"] == top]
    parent = parent[~parent.duplicated("record_id", keep="first")].reset_index(drop=True)
    chosen = parent.set_index("record_id")
    kept = []
    for child, cv in zip(children, child_versions):
        want_v = chosen["_v"].reindex(child["record_id"].to_numpy()).to_numpy()
        want_sha = chosen["_sha"].reindex(child["record_id"].to_numpy()).to_numpy()
        sha = text_column(child["file_sha256"]).fillna("").to_numpy(dtype=object)
        same = (cv.to_numpy() == want_v) & (sha == want_sha)
        kept.append(child[same].reset_index(drop=True))
    return parent, kept


def counted_tracs(current) -> tuple[pd.DataFrame, pd.DataFrame]:
    """TraCS `CD` individuals of current, not voided forms, with what the rules need, and the
    evidence items of those forms (record_id, seized, item_status)."""
    defl = _frame(current, "tracs_deflection")
    ids = set(defl["record_id"].dropna())
    forms = _frame(current, "tracs_field_report")
    forms = forms[forms["record_id"].isin(ids)]
    people = _frame(current, "tracs_individual")
    people = people[people["record_id"].isin(ids)]
    items = _frame(current, "tracs_evidence_item")
    items = items[items["record_id"].isin(ids)]
    forms, (defl, people, items) = _keep_current(
        forms, int_column(forms["form_version"]), [defl, people, items],
        [int_column(x["form_version"]) for x in (defl, people, items)],
    )
    forms = forms[~_is(forms["status"], "Voided")]
    defl = defl.assign(seq_id=ident_column(defl["seq"]))
    people = people.assign(seq_id=ident_column(people["seq"]))
    people = people[_is(people["disposition"], "CD")]
    people = people[~people.duplicated(["record_id", "seq_id"], keep="first")]
    defl = defl[~defl.duplicated(["record_id", "seq_id"], keep="first")]

    t = defl.merge(
        forms[["record_id", "export_date", "report_number", "date_occurred",
               "originating_agency_type", "county_fips"]],
        on="record_id", how="inner",
    ).merge(
        people[["record_id", "seq_id", "person_key", "sex", "race", "ethnicity"]],
        on=["record_id", "seq_id"], how="inner",
    )
    approval = day_column(t["approval_date"])
    approval = approval.where(approval.notna(), day_column(t["approved_at"]))
    out = pd.DataFrame({
        "member": "TRACS:" + t["record_id"].astype(str) + ":" + t["seq_id"].astype(str),
        "record_id": t["record_id"].astype(object),
        "seq": int_column(t["seq"]),
        "source": text_column(t["source"]),
        "file_name": text_column(t["file_name"]),
        "line": int_column(t["line"]),
        "report": text_column(t["report_number"]),
        "key": text_column(t["person_key"]),
        "export_date": day_column(t["export_date"]),
        "occurred": day_column(t["date_occurred"]),
        "origin": text_column(t["originating_agency_type"]),
        "county": text_column(t["county_fips"]),
        "sex": text_column(t["sex"]),
        "race": text_column(t["race"]),
        "ethnicity": text_column(t["ethnicity"]),
        "age": int_column(t["age_at_referral"]),
        "referral": day_column(t["referral_date"]),
        "pathway": text_column(t["pathway"]),
        "unit": text_column(t["approving_unit"]),
        "role": text_column(t["approver_role"]),
        "approval_date": approval,
        "cm_contact": day_column(t["case_manager_contact_date"]),
        "abeyance": text_column(t["charges_held_in_abeyance"]),
    })
    out_items = pd.DataFrame({
        "record_id": items["record_id"].astype(object),
        "seized": text_column(items["seized"]),
        "item_status": text_column(items["item_status"]),
    })
    return out.reset_index(drop=True), out_items.reset_index(drop=True)


def counted_meg(current) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MEG deflections of current, not void cases, and the evaluations of those cases
    (record_id, subject_id, evaluation_date)."""
    defl = _frame(current, "meg_deflection")
    ids = set(defl["record_id"].dropna())
    cases = _frame(current, "meg_case")
    cases = cases[cases["record_id"].isin(ids)]
    subjects = _frame(current, "meg_subject")
    subjects = subjects[subjects["record_id"].isin(ids)]
    evals = _frame(current, "meg_evaluation")
    evals = evals[evals["record_id"].isin(ids)]
    cases, (defl, subjects, evals) = _keep_current(
        cases, instant_column(cases["last_modified"]), [defl, subjects, evals],
        [instant_column(x["last_modified"]) for x in (defl, subjects, evals)],
    )
    cases = cases[~_is(cases["status"], "VOID")]
    defl = defl.assign(subject=ident_column(defl["subject_id"]))
    defl = defl[~defl.duplicated(["record_id", "subject"], keep="first")]
    subjects = subjects.assign(subject=ident_column(subjects["subject_id"]))
    subjects = subjects[~subjects.duplicated(["record_id", "subject"], keep="first")]
    # the exporting unit: the file's Unit (also the prefix of record_id `Unit/CaseNumber`)
    unit = text_column(cases["unit"])
    missing = unit.isna()
    if missing.any():
        unit[missing] = cases.loc[missing, "record_id"].astype(str).str.split("/", n=1).str[0]
    cases = cases.assign(exporting_unit=unit)
    m = defl.merge(
        cases[["record_id", "export_date", "exporting_unit", "originating_agency_type",
               "tracs_report_number", "county_fips"]],
        on="record_id", how="inner",
    ).merge(
        subjects[["record_id", "subject", "person_key", "sex", "race"]],
        on=["record_id", "subject"], how="left",
    )
    out = pd.DataFrame({
        "member": "MEG:" + m["record_id"].astype(str) + ":" + m["subject"].astype(str),
        "record_id": m["record_id"].astype(object),
        "subject": m["subject"].astype(object),
        "source": text_column(m["source"]),
        "file_name": text_column(m["file_name"]),
        "line": int_column(m["line"]),
        "report": text_column(m["tracs_report_number"]),
        "key": text_column(m["person_key"]),
        "export_date": day_column(m["export_date"]),
        "exporting_unit": text_column(m["exporting_unit"]),
        "origin": text_column(m["originating_agency_type"]),
        "county": text_column(m["county_fips"]),
        "sex": text_column(m["sex"]),
        "race": text_column(m["race"]),
        "age": int_column(m["age_at_referral"]),
        "referral": day_column(m["referral_date"]),
        "pathway": text_column(m["pathway"]),
        "unit": text_column(m["approving_unit"]),
        "role": text_column(m["approver_role"]),
        "approval_date": day_column(m["approval_date"]).where(
            lambda s: s.notna(), day_column(m["approved_at"])),
        "cm_contact": day_column(m["case_manager_contact_date"]),
        "prosecutor": day_column(m["prosecutor_submission_date"]),
        # the method decides whether it is a disposal (W17: RETAINED is not); the date is an
        # event date whatever the method (W14)
        "disposal_method": text_column(m["evidence_disposal_method"]),
        "disposal_date": day_column(m["evidence_disposal_date"]),
        "outcome": text_column(m["outcome"]),
    })
    out_evals = pd.DataFrame({
        "record_id": evals["record_id"].astype(object),
        "subject": ident_column(evals["subject_id"]),
        "evaluation_date": day_column(evals["evaluation_date"]),
    })
    return out.reset_index(drop=True), out_evals.reset_index(drop=True)
