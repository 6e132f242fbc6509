"""Expectations on the canonical TraCS tables, checked on every run's batch files before the
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

STATUSES = ("Accepted", "Exported", "Transmitted", "Voided")
DIVISIONS = ("DOP", "DCI")
INCIDENT_TYPES = ("DRUG", "DUI", "TRAFFIC", "WEAPONS", "PROPERTY", "PERSON", "OTHER")
ROLES = ("01", "02", "03", "04", "05")
DISPOSITIONS = ("AR", "CI", "CD", "WA", "RL", "RF", "OT")

SUITES = (
    Suite(
        "canonical_tracs_field_report",
        "canonical",
        "stg_tracs__field_report",
        ("file_name", "record_id", "form_version"),
        (
            *not_null(
                "source",
                "file_name",
                "file_sha256",
                "record_id",
                "form_version",
                "status",
                "report_number",
                "date_occurred",
                "division",
                "county_fips",
                "incident_type",
            ),
            in_set("status", STATUSES),
            in_set("division", DIVISIONS),
            in_set("originating_agency_type", ("ISP_DOP", "ISP_DCI")),
            in_set("incident_type", INCIDENT_TYPES),
            matches("record_id", r"^FR-[0-9]{2}-[0-9]{7}$"),
            matches("report_number", r"^ISP[0-9]{2}-[0-9]{6}$"),
            matches("county_fips", r"^17[0-9]{3}$"),
            between("form_version", 1),
            unique("file_sha256", "record_id"),
        ),
        numeric=("form_version",),
    ),
    Suite(
        "canonical_tracs_individual",
        "canonical",
        "stg_tracs__individual",
        ("file_name", "record_id", "form_version", "seq"),
        (
            *not_null("record_id", "form_version", "seq", "role"),
            in_set("role", ROLES),
            in_set("disposition", DISPOSITIONS),
            in_set("sex", vocab.SEX_CODES),
            in_set("race", vocab.RACE_CODES),
            in_set("ethnicity", vocab.ETHNICITY_CODES),
            *person_key_ok(),
            unique("file_sha256", "record_id", "form_version", "seq"),
        ),
        person_key=True,
    ),
    Suite(
        "canonical_tracs_deflection",
        "canonical",
        "stg_tracs__deflection",
        ("file_name", "record_id", "form_version", "seq"),
        (
            *not_null("record_id", "seq", "pathway", "referral_date"),
            in_set("pathway", vocab.PATHWAYS),
            in_set("approver_role", vocab.APPROVER_ROLES),
            matches("approving_unit", r"^[A-Z][A-Z0-9_]{1,19}$"),
            between("age_at_referral", *AGE_RANGE),
            unique("file_sha256", "record_id", "form_version", "seq"),
        ),
        numeric=("age_at_referral",),
    ),
)
