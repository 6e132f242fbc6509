"""Which fields of the MEG / task force case activity export hold personal data
(deflect.core.fields).

Every element and attribute the schema declares is named here, once (tests/adapters checks it
against the XSD); anything else is personal. Personal: the subject's name (the `Name` element and
its `Last`, `First`, `Middle`) and birth date, free text (the case manager's agency, the
prosecutor's office) and the approver's id (it identifies a person). Not personal: codes from pick
lists, dates of events, the case's identities, the subject's number within the case (a position,
as TraCS `seq`) and the structure around them.
"""
from __future__ import annotations

from deflect.core.fields import declare

FIELDS = declare(
    public_elements=(
        # structure: elements that hold only other elements (or nothing but attributes)
        "CaseActivityExport", "Case", "Subjects", "Subject", "Deflections", "Deflection",
        "OriginatingAgency", "Approval", "CaseManager", "Evaluations", "Evaluation",
        "ProsecutorSubmission", "EvidenceDisposal",
        # values
        "OpenedDate", "TraCSReportNumber", "CountyFIPS", "Sex", "Race", "Outcome",
    ),
    personal_elements=("Name", "BirthDate"),
    public_attributes=(
        "Version", "Unit", "ExportDate", "WindowStart", "CaseNumber", "LastModified", "Status",
        "Type", "ORI", "SubjectId", "ReferralDate", "Pathway", "Role", "ApprovedOn",
        "ApprovingUnit", "ContactedOn", "Date", "Result", "Method",
    ),
    personal_attributes=(
        "Last", "First", "Middle",  # Name
        "ApproverId",  # identifies the approver
        "Agency", "Office",  # free text
    ),
)
