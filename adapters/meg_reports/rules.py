"""Record rules of a MEG Case (deflection-rules.md §5), one small function each."""
from __future__ import annotations

from ingestion.findings import B03, B04, B05, Finding, duplicate_values

NS = "urn:il:meg:rms:case-activity"


def _q(local: str) -> str:
    return f"{{{NS}}}{local}"


# the paths the rules look up, spelled once (every record runs every rule)
_SUBJECTS = f"{_q('Subjects')}/{_q('Subject')}"
_DEFLECTIONS = f"{_q('Deflections')}/{_q('Deflection')}"


def _subjects(case):
    return case.findall(_SUBJECTS)


def _deflections(case):
    return case.findall(_DEFLECTIONS)


# The rules take the case and, optionally, its subjects and deflections already found
# (`record_rules` finds them once for all).

def check_b03(case, subjects=None, deflections=None) -> list[Finding]:
    """B03: a Deflection whose SubjectId names no Subject of the same case."""
    ids = {s.get("SubjectId") for s in (_subjects(case) if subjects is None else subjects)}
    return [B03.finding(f"SubjectId {d.get('SubjectId')}", line=d.sourceline,
                        path=f"Deflections/Deflection[@SubjectId='{d.get('SubjectId')}']")
            for d in (_deflections(case) if deflections is None else deflections)
            if d.get("SubjectId") not in ids]


def check_b04_subject_id(case, subjects=None) -> list[Finding]:
    """B04: the same Subject/@SubjectId twice in one case."""
    return duplicate_values(_subjects(case) if subjects is None else subjects, "SubjectId",
                            "Subject/@SubjectId", B04,
                            path_of=lambda s: f"Subjects/Subject[@SubjectId='{s.get('SubjectId')}']")


def check_b04_deflection_subject(case, deflections=None) -> list[Finding]:
    """B04: two Deflection elements for the same SubjectId in one case."""
    return duplicate_values(
        _deflections(case) if deflections is None else deflections, "SubjectId",
        "Deflection/@SubjectId", B04,
        path_of=lambda d: f"Deflections/Deflection[@SubjectId='{d.get('SubjectId')}']")


def check_b05(case, unit: str | None) -> list[Finding]:
    """B05: CaseNumber must start with the file's Unit followed by '-'."""
    number = case.get("CaseNumber") or ""
    if unit and number.startswith(unit + "-"):
        return []
    return [B05.finding(f"CaseNumber {number} in a file of unit {unit}", line=case.sourceline,
                        path="@CaseNumber")]


def record_rules(case, unit: str | None) -> list[Finding]:
    subjects, deflections = _subjects(case), _deflections(case)
    return (check_b03(case, subjects, deflections) + check_b04_subject_id(case, subjects)
            + check_b04_deflection_subject(case, deflections) + check_b05(case, unit))
