"""The quality rules of deflection-rules.md §5: code -> level, message, effect.

The one place the validation report, the findings CSV and the steward commands take a rule's
message from; other packages may import it too so a finding's message and the report agree.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("file", "record", "deflection")


@dataclass(frozen=True)
class Rule:
    code: str
    level: str  # one of LEVELS
    message: str  # what the rule finds, as a steward reads it
    effect: str  # what the pipeline does about it


_RULES = (
    Rule("F01", "file", "not well-formed XML, or bad encoding", "file quarantined"),
    Rule("F02", "file", "wrong root element or namespace", "file quarantined"),
    Rule("F03", "file", "unsupported version", "file quarantined"),
    Rule(
        "F04",
        "file",
        "checksum does not match the sidecar, or the sidecar is malformed",
        "file quarantined (transfer re-tried next run)",
    ),
    Rule(
        "F05",
        "file",
        "unit/ORI/date in the file name differs from the document, or the MEG unit "
        "differs from the source's configured unit",
        "file quarantined",
    ),
    Rule(
        "F06",
        "file",
        "DTD, entity declarations or external references present",
        "file quarantined, nothing resolved",
    ),
    Rule("F07", "file", "cannot decompress, or over the configured size limit", "file quarantined"),
    Rule(
        "F08",
        "file",
        "XML Schema error outside every FieldReport and Case (root element or its attributes)",
        "file quarantined",
    ),
    Rule(
        "S01",
        "record",
        "XML Schema error inside a FieldReport (or its Contact's attributes) or a Case",
        "record quarantined, with every error",
    ),
    Rule("B01", "record", "disposition CD without deflection", "record quarantined"),
    Rule("B02", "record", "deflection with a disposition other than CD", "record quarantined"),
    Rule(
        "B03",
        "record",
        "MEG Deflection/@SubjectId not among the case's subjects",
        "record quarantined",
    ),
    Rule(
        "B04",
        "record",
        "duplicate individual/@seq, Subject/@SubjectId or Deflection/@SubjectId "
        "within a record, or the same formNumber or CaseNumber twice in one file",
        "record(s) quarantined",
    ),
    Rule(
        "B05",
        "record",
        "MEG CaseNumber does not start with the file's Unit followed by '-'",
        "record quarantined",
    ),
    Rule("W01", "deflection", "no approval recorded", "counted as UNATTRIBUTED"),
    Rule(
        "W02",
        "deflection",
        "approving unit unknown or not valid on the approval date",
        "counted as UNATTRIBUTED",
    ),
    Rule("W03", "deflection", "approval date after the referral date", "counted, flagged"),
    Rule("W04", "deflection", "referral before the incident occurred", "counted, flagged"),
    Rule(
        "W05",
        "deflection",
        "officer prevention pathway with charges held in abeyance",
        "counted, flagged",
    ),
    Rule(
        "W06",
        "deflection",
        "officer intervention pathway with charges-held-in-abeyance blank",
        "counted, flagged",
    ),
    Rule(
        "W07",
        "deflection",
        "an evaluation dated before the referral",
        "counted, flagged; that evaluation ignored",
    ),
    Rule(
        "W08",
        "deflection",
        "county outside the approving unit's counties on the approval date",
        "counted, flagged",
    ),
    Rule(
        "W09",
        "deflection",
        "TraCS and MEG name different approving units",
        "counted under the MEG's, flagged",
    ),
    Rule(
        "W10",
        "deflection",
        "linked by report number only (person keys differ or are missing)",
        "counted once, flagged",
    ),
    Rule(
        "W11",
        "deflection",
        "MEG case names a TraCS report with no matching deflection (yet), or with several",
        "counted, flagged",
    ),
    Rule(
        "W12",
        "deflection",
        "MEG/TF-originated with no approval recorded",
        "counted under the exporting unit",
    ),
    Rule("W13", "deflection", "age at referral under 10 or over 100", "counted, flagged"),
    Rule(
        "W14",
        "deflection",
        "an event date after the export date of the file that delivered the current version",
        "counted, flagged",
    ),
    Rule("W15", "deflection", "follow-up gap over 92 days", "counted, flagged"),
    Rule("W16", "deflection", "unsuccessful, not submitted to the prosecutor", "counted, flagged"),
    Rule(
        "W17",
        "deflection",
        "seized evidence not disposed after a final outcome",
        "counted, flagged",
    ),
)

RULES: dict[str, Rule] = {r.code: r for r in _RULES}
CODES: tuple[str, ...] = tuple(RULES)


def rule(code: str) -> Rule | None:
    return RULES.get(code)


def message(code: str) -> str:
    """The rule's message; an unknown code says so rather than failing the report."""
    r = RULES.get(code)
    return r.message if r else "unknown rule code"


def level(code: str) -> str | None:
    r = RULES.get(code)
    return r.level if r else None
