"""MEG / task force codes and what they mean in the shared vocabulary (deflection-rules.md §1)."""
from __future__ import annotations

from deflect.core.vocab import APPROVER_ROLES, ORIGINATING_AGENCY_TYPES, PATHWAYS

PATHWAY = dict(zip(("1", "2", "3", "4", "5"), PATHWAYS))
APPROVER_ROLE = dict(zip(("D", "C", "DS"), APPROVER_ROLES))
AGENCY_TYPE = dict(zip(("ISP-DOP", "ISP-DCI", "MEG", "TF", "LOCAL"), ORIGINATING_AGENCY_TYPES))
