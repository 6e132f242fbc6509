"""Findings (deflection-rules.md §5) and the rule units that produce them.

A `Rule` is a code, a level and a message; a check is a small function returning the findings of
one rule. File-level checks live here; record rules live beside their adapter.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    code: str
    level: str  # "file" | "record"
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    message: str

    def finding(self, detail: str | None = None, *, line: int | None = None,
                column: int | None = None, path: str | None = None) -> Finding:
        message = f"{self.message}: {detail}" if detail else self.message
        return Finding(self.code, self.level, message, line, column, path)


F01 = Rule("F01", "file", "not well-formed XML, or bad encoding")
F02 = Rule("F02", "file", "wrong root element or namespace")
F03 = Rule("F03", "file", "unsupported version")
F04 = Rule("F04", "file", "checksum does not match the sidecar, or the sidecar is malformed")
F05 = Rule("F05", "file", "unit/ORI/date in the file name differs from the document")
F06 = Rule("F06", "file", "DTD, entity declarations or external references present")
F07 = Rule("F07", "file", "cannot decompress, or over the configured size limit")
F08 = Rule("F08", "file", "XML Schema error outside every record")
S01 = Rule("S01", "record", "XML Schema error")
B01 = Rule("B01", "record", "disposition CD without deflection")
B02 = Rule("B02", "record", "deflection with a disposition other than CD")
B03 = Rule("B03", "record", "Deflection/@SubjectId not among the case's subjects")
B04 = Rule("B04", "record", "duplicate identity within a record or in the file")
B05 = Rule("B05", "record", "CaseNumber does not start with the file's Unit followed by '-'")

RULES = {r.code: r for r in (F01, F02, F03, F04, F05, F06, F07, F08, S01, B01, B02, B03, B04, B05)}


def check_duplicate_in_file(record_id: str | None, counts: dict[str, int], *,
                            line: int | None = None, path: str | None = None) -> list[Finding]:
    """B04 (file part): the same formNumber / CaseNumber twice in one file quarantines every copy."""
    if record_id and counts.get(record_id, 0) > 1:
        return [B04.finding(f"{record_id} appears {counts[record_id]} times in the file",
                            line=line, path=path)]
    return []


def duplicate_values(elements, attribute: str, what: str, rule: Rule = B04,
                     path_of=None) -> list[Finding]:
    """B04 (record part): a value of `attribute` repeated among `elements`; one finding per
    repeated occurrence, at that occurrence's line."""
    seen: set[str] = set()
    out = []
    for el in elements:
        value = el.get(attribute)
        if value is None:
            continue
        if value in seen:
            out.append(rule.finding(f"duplicate {what} {value}", line=el.sourceline,
                                    path=path_of(el) if path_of else None))
        seen.add(value)
    return out
