"""One vocabulary for both sources (deflection-rules.md §1).

Each mapping turns a source code into the warehouse's vocabulary. A blank code is None, never ''.
"""
from __future__ import annotations

PATHWAYS = (
    "SELF_REFERRAL",
    "ACTIVE_OUTREACH",
    "NALOXONE_PLUS",
    "OFFICER_PREVENTION",
    "OFFICER_INTERVENTION",
)

TRACS_PATHWAY = dict(zip(("SR", "AO", "NP", "OP", "OI"), PATHWAYS))
MEG_PATHWAY = dict(zip(("1", "2", "3", "4", "5"), PATHWAYS))

APPROVER_ROLES = ("DIRECTOR", "COMMANDER", "DESIGNEE")
TRACS_APPROVER_ROLE = dict(zip(("DIR", "CMDR", "DSGN"), APPROVER_ROLES))
MEG_APPROVER_ROLE = dict(zip(("D", "C", "DS"), APPROVER_ROLES))

ORIGINATING_AGENCY_TYPES = ("ISP_DOP", "ISP_DCI", "MEG", "TASK_FORCE", "LOCAL")
TRACS_DIVISION_AGENCY_TYPE = {"DOP": "ISP_DOP", "DCI": "ISP_DCI"}
MEG_AGENCY_TYPE = dict(zip(("ISP-DOP", "ISP-DCI", "MEG", "TF", "LOCAL"), ORIGINATING_AGENCY_TYPES))

OUTCOMES = ("PENDING", "SUCCESSFUL", "UNSUCCESSFUL")
EVALUATION_RESULTS = ("ENG", "TRT", "CMP", "UNS", "NOC")
SEX_CODES = ("M", "F", "X", "U")
RACE_CODES = ("W", "B", "A", "I", "P", "M", "U")
ETHNICITY_CODES = ("H", "N", "U")

UNATTRIBUTED = "UNATTRIBUTED"
ILLINOIS_STATE_FIPS = "17"


def blank_to_none(value: str | None) -> str | None:
    """Blankable fields are present but may be empty; empty means 'not recorded'."""
    if value is None or value == "":
        return None
    return value


def map_code(mapping: dict[str, str], value: str | None) -> str | None:
    value = blank_to_none(value)
    return None if value is None else mapping[value]


def tracs_county_fips(county_code: str | None) -> str | None:
    county_code = blank_to_none(county_code)
    return None if county_code is None else ILLINOIS_STATE_FIPS + county_code


def quarter_of(d) -> str:
    """`YYYY-Qn` of a date (the calendar quarter of a referral, III.E.3)."""
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
