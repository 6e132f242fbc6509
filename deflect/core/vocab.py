"""One vocabulary for both sources (deflection-rules.md §1).

The source codes behind each term belong to the adapters (`adapters/<kind>/codes.py`). A blank code is None, never ''.
"""
from __future__ import annotations

PATHWAYS = (
    "SELF_REFERRAL",
    "ACTIVE_OUTREACH",
    "NALOXONE_PLUS",
    "OFFICER_PREVENTION",
    "OFFICER_INTERVENTION",
)
PATHWAY_SECTIONS = dict(zip(PATHWAYS, ("III.B.1", "III.B.2", "III.B.3", "III.B.4", "III.B.5")))

APPROVER_ROLES = ("DIRECTOR", "COMMANDER", "DESIGNEE")

ORIGINATING_AGENCY_TYPES = ("ISP_DOP", "ISP_DCI", "MEG", "TASK_FORCE", "LOCAL")

OUTCOMES = ("PENDING", "SUCCESSFUL", "UNSUCCESSFUL")
EVALUATION_RESULTS = ("ENG", "TRT", "CMP", "UNS", "NOC")
SEX_CODES = ("M", "F", "X", "U")
RACE_CODES = ("W", "B", "A", "I", "P", "M", "U")
ETHNICITY_CODES = ("H", "N", "U")

UNATTRIBUTED = "UNATTRIBUTED"


def blank_to_none(value: str | None) -> str | None:
    """Blankable fields are present but may be empty; empty means 'not recorded'."""
    if value is None or value == "":
        return None
    return value


def map_code(mapping: dict[str, str], value: str | None) -> str | None:
    value = blank_to_none(value)
    return None if value is None else mapping[value]


