"""Expectations on the canonical MEG / task force tables, checked on every run's batch files before the
warehouse merges them (stewardship/expectations.py runs them with Great Expectations)."""
from __future__ import annotations

from deflect.core import vocab
from deflect.core.expectations import (
    AGE_RANGE,
    Suite,
    between,
    in_set,
    matches,
    not_null,
    person_key_ok,
    unique,
)

STATUSES = ("OPEN", "CLOSED", "VOID")

SUITES = (
    Suite(
        "canonical_meg_case",
        "canonical",
        "stg_meg__case",
        ("file_name", "record_id", "last_modified"),
        (
            *not_null(
                "source",
                "file_name",
                "file_sha256",
                "record_id",
                "case_number",
                "last_modified",
                "status",
                "opened_date",
                "originating_agency_type",
                "county_fips",
            ),
            in_set("status", STATUSES),
            in_set("originating_agency_type", vocab.ORIGINATING_AGENCY_TYPES),
            matches("county_fips", r"^[0-9]{5}$"),
            matches("tracs_report_number", r"^ISP[0-9]{2}-[0-9]{6}$"),
            unique("file_sha256", "record_id"),
        ),
    ),
    Suite(
        "canonical_meg_subject",
        "canonical",
        "stg_meg__subject",
        ("file_name", "record_id", "subject_id"),
        (
            *not_null("record_id", "subject_id"),
            in_set("sex", vocab.SEX_CODES),
            in_set("race", vocab.RACE_CODES),
            *person_key_ok(),
            unique("file_sha256", "record_id", "subject_id"),
        ),
        person_key=True,
    ),
    Suite(
        "canonical_meg_deflection",
        "canonical",
        "stg_meg__deflection",
        ("file_name", "record_id", "subject_id"),
        (
            *not_null("record_id", "subject_id", "referral_date", "pathway", "outcome"),
            in_set("pathway", vocab.PATHWAYS),
            in_set("outcome", vocab.OUTCOMES),
            in_set("approver_role", vocab.APPROVER_ROLES),
            matches("approving_unit", r"^[A-Z][A-Z0-9_]{1,19}$"),
            between("age_at_referral", *AGE_RANGE),
            unique("file_sha256", "record_id", "subject_id"),
        ),
        numeric=("age_at_referral",),
    ),
    Suite(
        "canonical_meg_evaluation",
        "canonical",
        "stg_meg__evaluation",
        ("file_name", "record_id", "subject_id", "evaluation_date"),
        (
            *not_null("record_id", "subject_id", "evaluation_date", "result"),
            in_set("result", vocab.EVALUATION_RESULTS),
        ),
    ),
)
