"""TraCS codes and what they mean in the shared vocabulary (deflection-rules.md §1)."""
from __future__ import annotations

from deflect.core.vocab import APPROVER_ROLES, PATHWAYS

PATHWAY = dict(zip(("SR", "AO", "NP", "OP", "OI"), PATHWAYS))
APPROVER_ROLE = dict(zip(("DIR", "CMDR", "DSGN"), APPROVER_ROLES))
DIVISION_AGENCY_TYPE = {"DOP": "ISP_DOP", "DCI": "ISP_DCI"}
ILLINOIS_STATE_FIPS = "17"


def county_fips(county_code: str | None) -> str | None:
    """`17` + the three-digit county code; blank is None."""
    return None if not county_code else ILLINOIS_STATE_FIPS + county_code
