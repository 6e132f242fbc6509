"""Which fields of the TraCS incident export hold personal data (deflect.core.fields).

Every element and attribute the schemas declare is named here, once (tests/adapters checks it
against every XSD of the interface); anything else, an element of `OtherForm`'s free content or
a misspelt name in a broken file, is personal. Personal: names, birth dates, the narrative, the
attachments and their file names, free text (descriptions, the case manager agency), and what
identifies a person (an officer's badge, an approver's id). Not personal: codes from pick lists,
dates of events, the form's identities and the structure around them.
"""
from __future__ import annotations

from deflect.core.fields import declare

FIELDS = declare(
    public_elements=(
        # structure: elements that hold only other elements
        "TraCSExport", "Contact", "FieldReport", "summary", "individuals", "individual",
        "deflection", "offenses", "offense", "evidence", "item", "attachments",
        # the incident
        "summaryReportNumber", "summaryDateOccurred", "summaryTimeOccurred", "summaryDivision",
        "summaryUnit",  # the State Police unit ("TROOP 13"): an organisation, not a person
        "summaryCountyCode", "summaryIncidentType",
        # a person's coded attributes: what the warehouse keeps of them (rules §6)
        "individualRole", "individualSex", "individualRace", "individualEthnicity",
        "individualDisposition",
        # the deflection
        "deflectionPathway", "deflectionApprovalUnit", "deflectionApproverRole",
        "deflectionApprovalDateTime", "deflectionReferralDate",
        "deflectionCaseManagerContactDate", "deflectionChargesHeldInAbeyance",
        "deflectionCoResponderType",
        # offences and evidence: a statute citation and codes
        "offenseStatute", "offenseClass", "itemSeized", "itemStatus",
    ),
    personal_elements=(
        "individualLastName", "individualFirstName", "individualMiddleName", "individualDOB",
        "summaryOfficerBadge",  # identifies an officer
        "deflectionApproverId",  # identifies the approver
        "deflectionCaseManagerAgency",  # free text
        "offenseDescription", "itemDescription",  # free text
        "narrative", "attachment",
    ),
    containers=("OtherForm",),  # any vocabulary (a citation's driver, a crash's parties)
    public_attributes=(
        "schemaVersion", "exportId", "createdAt", "agencyORI", "contactId", "formNumber",
        "formVersion", "status", "lastModified", "seq", "formType", "mimeType",
    ),
    personal_attributes=(
        "name",  # an attachment's file name is free text
    ),
)
