"""What a deflection's row depends on besides its own records, for the warehouse's incremental
refresh (docs/architecture.md, "Refresh").

The rules look at one deflection at a time, except linking (§2), which pairs the records that
share a TraCS report number. So a night that loaded new versions of some records changes only
the deflections of those records and of every record whose current version shares a report
number with any version of them. The as-of date D enters only through thresholds counted from
a dated event (the referral, an evaluation): a row can change between D1 and D2 only if one of
its events lies within `as_of_horizon_days` before D2. A change of the rules themselves (this
package's code) or of the unit reference changes every row: `rules_fingerprint` says when.
"""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

import deflect.core
from transforms import followup, quality


@dataclass(frozen=True)
class Dependencies:
    # staging parent table -> its column whose equal values link records together (§2)
    link_keys: dict[str, str]
    # staging parent table -> the marts.fct_deflection column naming its member record
    member_columns: dict[str, str]
    # the longest span after an event (referral, evaluation) within which a later as-of date
    # can still change a row: due (90 days), overdue (91), W15 (93), W16 (31), W19 (8), W20
    # (30), an evaluation counting from its own day (0)
    as_of_horizon_days: int


DEPENDENCIES = Dependencies(
    link_keys={"stg_tracs__field_report": "report_number", "stg_meg__case": "tracs_report_number"},
    member_columns={"stg_tracs__field_report": "tracs_record_id", "stg_meg__case": "meg_record_id"},
    as_of_horizon_days=1 + max(followup.DUE_DAYS + 1, followup.GAP_DAYS + 1,
                               followup.PROSECUTOR_DAYS + 1, followup.CASE_MANAGER_DAYS + 1,
                               quality.UNREPORTED_DAYS),
)


def _core_imports(path: Path) -> set[str]:
    """The deflect.core modules a source file imports (`from deflect.core.x import ...`,
    `from deflect.core import x`, `import deflect.core.x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "deflect.core":
                found |= {a.name for a in node.names}
            elif node.module.startswith("deflect.core."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names
                      if a.name.startswith("deflect.core.")}
    return found


def rules_fingerprint() -> str:
    """SHA-256 of the rules' code: this package's modules and, transitively, the deflect.core
    modules they import (vocabulary, units, dates, the rule catalogue). Any edit of them, even of
    a comment, makes the next refresh whole: cheap safety. Other core modules (configuration,
    expectations) do not enter."""
    core = Path(deflect.core.__file__).parent
    files = sorted(Path(__file__).parent.glob("*.py"))
    todo = set().union(*(_core_imports(f) for f in files))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        path = core / f"{name}.py"
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        todo |= _core_imports(path) - seen
    digest = hashlib.sha256()
    for path in files + [core / f"{n}.py" for n in sorted(seen)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
