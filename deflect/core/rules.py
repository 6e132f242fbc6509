"""The quality rules of deflection-rules.md §5: code -> level, message, effect, what to do.

The one catalogue: ingestion words its file and record findings from it, the rules (transforms)
their W-flags, the validation report, the steward commands and the findings export their
explanations. `message` is the spec's "what", `effect` its "effect"; `action` is what a data
steward does about a finding, and whom to ask.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("file", "record", "deflection")

_ASK_PRODUCER = "ask the producing agency's records contact"


@dataclass(frozen=True)
class Finding:
    """One finding of a rule, where it was found (line and column in the file, XML path)."""

    code: str
    level: str  # "file" | "record" | "deflection"
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    level: str  # one of LEVELS
    message: str  # what the rule finds, as a steward reads it
    effect: str  # what the pipeline does about it
    action: str  # what a steward does about it

    def finding(self, detail: str | None = None, *, line: int | None = None,
                column: int | None = None, path: str | None = None) -> Finding:
        message = f"{self.message}: {detail}" if detail else self.message
        return Finding(self.code, self.level, message, line, column, path)


_RULES = (
    Rule("F01", "file", "not well-formed XML, or bad encoding", "file quarantined",
         f"{_ASK_PRODUCER} to export the file again; only UTF-8 and ISO-8859-1 are accepted"),
    Rule("F02", "file", "wrong root element or namespace", "file quarantined",
         f"check that the file was sent to the right drop; {_ASK_PRODUCER}"),
    Rule("F03", "file", "unsupported version", "file quarantined",
         "ask the producer which interface version it exports; a new version needs its schema "
         "added before the file can load"),
    Rule("F04", "file", "checksum does not match the sidecar, or the sidecar is malformed",
         "file quarantined (transfer re-tried next run)",
         "usually nothing: the next run fetches the file again; if it stays, ask the TraCS "
         "export operator to rewrite the .sha256 sidecar"),
    Rule("F05", "file",
         "unit/ORI/date in the file name differs from the document, or the MEG unit differs "
         "from the source's configured unit",
         "file quarantined",
         "if the configuration names the wrong unit, correct it (the file is taken again); "
         f"otherwise {_ASK_PRODUCER} to correct the name or the header"),
    Rule("F06", "file", "DTD, entity declarations or external references present",
         "file quarantined, nothing resolved",
         f"{_ASK_PRODUCER}: exports must not carry a DOCTYPE, entities or external references"),
    Rule("F07", "file", "cannot decompress, or over the configured size limit",
         "file quarantined",
         "if the size limit (max_file_bytes) is too low, raise it (the file is taken again); "
         f"otherwise {_ASK_PRODUCER} to export the file again"),
    Rule("F08", "file",
         "XML Schema error outside every FieldReport and Case (root element or its attributes)",
         "file quarantined",
         f"{_ASK_PRODUCER} to correct the file header and send the file again"),
    # Not in deflection-rules.md §5: the project's own code for a file that would stall or sink
    # the night (operations: file_timeout_s, file_memory_mb).
    Rule("F09", "file", "over the processing budget (time or memory) for one file",
         "file quarantined, the night goes on",
         "look at the file's shape (an element flood, a huge record); if it is genuine, raise "
         "file_timeout_s or file_memory_mb and replay it, else ask the producer to export it "
         "again"),
    Rule("S01", "record",
         "XML Schema error inside a FieldReport (or its Contact's attributes) or a Case",
         "that record quarantined, with every error",
         "send the unit the value and line shown; the record loads when a corrected version "
         "arrives (or replay a corrected file)"),
    Rule("B01", "record", "disposition CD without deflection", "record quarantined",
         "ask the unit to complete the deflection section or correct the disposition"),
    Rule("B02", "record", "deflection with a disposition other than CD", "record quarantined",
         "ask the unit whether the person was deflected (disposition CD) or not"),
    Rule("B03", "record", "MEG Deflection/@SubjectId not among the case's subjects",
         "record quarantined", "ask the unit to link the deflection to a subject of the case"),
    Rule("B04", "record",
         "duplicate individual/@seq, Subject/@SubjectId or Deflection/@SubjectId within a "
         "record; or the same FieldReport/@formNumber or CaseNumber twice in one file "
         "(every copy)",
         "record(s) quarantined",
         "ask the unit to remove the duplicate and send the record again"),
    Rule("B05", "record", "MEG CaseNumber does not start with the file's Unit followed by '-'",
         "record quarantined", "ask the unit to correct the case number or the file's unit"),
    Rule("W01", "deflection", "no approval recorded", "counted as UNATTRIBUTED",
         "ask the originating agency which MEG or task force approved the deflection (III.D)"),
    Rule("W02", "deflection", "approving unit unknown or not valid on the approval date",
         "counted as UNATTRIBUTED",
         "check the unit code against the unit reference; ask the unit to correct it"),
    Rule("W03", "deflection", "approval date after the referral date", "counted, flagged",
         "ask the approving unit to confirm the approval and referral dates"),
    Rule("W04", "deflection",
         "referral before the incident occurred (TraCS occurrence date)", "counted, flagged",
         "ask the trooper's supervisor to confirm the occurrence and referral dates"),
    Rule("W05", "deflection",
         "officer prevention pathway (the authoritative one) and TraCS "
         "deflectionChargesHeldInAbeyance = Y (III.B.4: no charges are filed); only where "
         "TraCS reports the deflection",
         "counted, flagged", "ask the unit whether charges were filed, and correct the pathway "
                             "or the abeyance field"),
    Rule("W06", "deflection",
         "officer intervention pathway (the authoritative one) and TraCS "
         "deflectionChargesHeldInAbeyance blank (III.B.5); only where TraCS reports the "
         "deflection",
         "counted, flagged", "ask the unit to record whether charges are held in abeyance"),
    Rule("W07", "deflection", "an evaluation dated before the referral",
         "counted, flagged; that evaluation ignored",
         "ask the approving unit to correct the evaluation date"),
    Rule("W08", "deflection",
         "county outside the approving unit's counties on the approval date (the referral date "
         "when the approval has none), when the unit lists counties",
         "counted, flagged", "confirm the county and the approving unit with the unit"),
    Rule("W09", "deflection", "TraCS and MEG both name an approving unit, and they differ",
         "counted under the MEG's, flagged",
         "ask both reporters which unit approved; correct the TraCS form or the MEG case"),
    Rule("W10", "deflection",
         "linked by report number only (person keys differ or are missing)",
         "counted once, flagged",
         "check names and birth dates in both records with the units; a typo splits the key"),
    Rule("W11", "deflection",
         "MEG case names a TraCS report with no matching deflection (yet), or with several",
         "counted, flagged",
         "wait a few nights for the TraCS report; if it does not come, ask the MEG to check the "
         "report number"),
    Rule("W12", "deflection", "MEG/TF-originated with no approval recorded",
         "counted under the exporting unit",
         "ask the exporting unit to record the approval (director or commander, III.D)"),
    Rule("W13", "deflection", "age at referral under 10 or over 100", "counted, flagged",
         "ask the unit to confirm the birth date"),
    Rule("W14", "deflection",
         "an event date (occurrence, approval, referral, case-manager contact, evaluation, "
         "prosecutor submission, evidence disposal) after the export date of the file that "
         "delivered the current version",
         "counted, flagged", "ask the unit to correct the future date"),
    Rule("W15", "deflection", "follow-up gap over 92 days", "counted, flagged",
         "ask the approving unit for the quarterly follow-up (III.E.2)"),
    Rule("W16", "deflection", "unsuccessful, not submitted to the prosecutor",
         "counted, flagged",
         "ask the approving unit whether the case went to the prosecutor (III.E.2)"),
    Rule("W17", "deflection", "seized evidence not disposed after a final outcome",
         "counted, flagged",
         "ask the unit to dispose of the evidence (destroyed or returned) and record it "
         "(III.D.2-3)"),
    Rule("W18", "deflection",
         "approver's role does not fit the approving unit (III.D): a MEG is approved by its "
         "director or a designee, a task force by its commander or a designee",
         "counted, flagged",
         "ask the approving unit who approved the deflection and to record the role"),
    Rule("W19", "deflection", "case manager not contacted within 7 days of the referral",
         "counted, flagged",
         "ask the approving unit when the case manager was contacted (III.C)"),
    Rule("W20", "deflection",
         "ISP-originated and reported by TraCS only, 30 days or more after the referral: the "
         "approving unit has not reported it",
         "counted, flagged",
         "ask the approving MEG or task force to enter the deflection in its own program "
         "(III.E.3)"),
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
