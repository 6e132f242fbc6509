"""reporting.published_deflection_counts: small-count suppression (reporting-contract.md).

Cells are the deflection counts of a (unit, quarter), summed over pathway; a unit line has the
cells of one unit and its total (`referral_quarter = 'ALL'`), a quarter line the cells of one
quarter and its total (`approving_unit_code = 'ALL'`). There is no grand total.

1. Primary: every cell or total from 1 to 9 is suppressed.
2. Complementary, in passes repeated until a pass changes nothing: the unit lines in unit-code
   order, then the quarter lines in quarter order, each change applied before the next line is
   visited. A line whose total is published and which has exactly one suppressed cell gets its
   smallest published cell suppressed (ties: first by unit code, then quarter); with no
   published cell left, its total is suppressed instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ALL = "ALL"
PUBLISHED_COLUMNS = ["approving_unit_code", "referral_quarter", "deflections", "suppressed"]


def primary(value: int) -> bool:
    return 1 <= value <= 9


@dataclass
class Line:
    """One unit or quarter line: its cells (ordered by unit code, then quarter) and its total."""

    name: str
    cells: list[tuple[str, str]]
    total: int
    total_suppressed: bool = False


@dataclass
class Table:
    cells: dict[tuple[str, str], int]
    suppressed: dict[tuple[str, str], bool] = field(default_factory=dict)
    unit_lines: list[Line] = field(default_factory=list)
    quarter_lines: list[Line] = field(default_factory=list)


def build_table(cells: dict[tuple[str, str], int]) -> Table:
    """The lines of a table of (unit, quarter) -> count, with primary suppression applied."""
    table = Table(cells=dict(cells), suppressed={k: primary(v) for k, v in cells.items()})
    keys = sorted(cells)
    for u in sorted({k[0] for k in keys}):
        members = [k for k in keys if k[0] == u]
        total = sum(cells[k] for k in members)
        table.unit_lines.append(Line(u, members, total, primary(total)))
    for q in sorted({k[1] for k in keys}):
        members = [k for k in keys if k[1] == q]
        total = sum(cells[k] for k in members)
        table.quarter_lines.append(Line(q, members, total, primary(total)))
    return table


def complement_line(table: Table, line: Line) -> bool:
    """One visit of a line; True when it changed something."""
    if line.total_suppressed:
        return False
    hidden = [k for k in line.cells if table.suppressed[k]]
    if len(hidden) != 1:
        return False
    shown = [k for k in line.cells if not table.suppressed[k]]
    if shown:
        smallest = min(shown, key=lambda k: (table.cells[k], k[0], k[1]))
        table.suppressed[smallest] = True
    else:
        line.total_suppressed = True
    return True


def complementary(table: Table) -> int:
    """Passes until one changes nothing; the number of passes run."""
    passes = 0
    while True:
        passes += 1
        changed = False
        for line in table.unit_lines + table.quarter_lines:
            changed |= complement_line(table, line)
        if not changed:
            return passes


def suppress(cells: dict[tuple[str, str], int]) -> Table:
    table = build_table(cells)
    complementary(table)
    return table


def table_rows(table: Table) -> pd.DataFrame:
    rows = [(u, q, None if table.suppressed[(u, q)] else n, table.suppressed[(u, q)])
            for (u, q), n in sorted(table.cells.items())]
    rows += [(line.name, ALL, None if line.total_suppressed else line.total, line.total_suppressed)
             for line in table.unit_lines]
    rows += [(ALL, line.name, None if line.total_suppressed else line.total, line.total_suppressed)
             for line in table.quarter_lines]
    out = pd.DataFrame(rows, columns=PUBLISHED_COLUMNS, dtype=object)  # None stays None
    out["suppressed"] = out["suppressed"].astype(bool)
    return out


def published_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """From deflection_counts (by unit, quarter and pathway) to the published table."""
    if not len(counts):
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    summed = counts.groupby(["approving_unit_code", "referral_quarter"])["deflections"].sum()
    cells = {(u, q): int(n) for (u, q), n in summed.items()}
    return table_rows(suppress(cells))
