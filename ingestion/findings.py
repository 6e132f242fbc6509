"""The rule units of ingestion: the file and record rules of deflection-rules.md §5, worded by
the one catalogue (deflect.core.rules), and the generic B04 checks. Record rules that are
specific to a source kind live beside its adapter.
"""
from __future__ import annotations

from deflect.core.rules import RULES as _CATALOGUE
from deflect.core.rules import Finding, Rule

__all__ = ["RULES", "Finding", "Rule", "check_duplicate_in_file", "duplicate_values"]

F01, F02, F03, F04, F05, F06, F07, F08, F09 = (_CATALOGUE[f"F0{i}"] for i in range(1, 10))
S01 = _CATALOGUE["S01"]
B01, B02, B03, B04, B05 = (_CATALOGUE[f"B0{i}"] for i in range(1, 6))

RULES = {r.code: r for r in (F01, F02, F03, F04, F05, F06, F07, F08, F09, S01, B01, B02, B03,
                              B04, B05)}


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
