"""The disclosure audit of publication.md §2: what a reader can derive about each suppressed cell.

Separate from any suppression method, so it checks whichever is used. A vintage's published
tables are one system: every cell (a count of one table, a line total, a grand total) is a
variable, cells shared by tables (a unit's quarter total appears in every table by that unit and
quarter) are one variable, and every total is the sum of its members. A published cell is fixed at
its value; a suppressed one is any non-negative number (the public knows a suppressed count may
be 0). For each suppressed cell the audit solves two linear programs, the smallest and the
largest value it can take under everything published; the cell is protected when the interval is
at least `protection_width` wide.

Linear programming gives the interval over real numbers, which contains the interval over
integers: for two-way tables with margins the two coincide (the constraint matrix is totally
unimodular); for several tables sharing margins the real interval can be wider by less than one,
so an audit at width w also guarantees integer intervals of at least w - 1. Stated, not hidden.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cell:
    """One published cell: its identity across tables, its true value, and whether it is shown."""

    key: Hashable
    value: int
    suppressed: bool


@dataclass(frozen=True)
class Interval:
    key: Hashable
    low: float
    high: float  # math.inf when nothing published bounds the cell from above

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class AuditResult:
    intervals: tuple[Interval, ...]
    protection_width: float

    @property
    def failures(self) -> tuple[Interval, ...]:
        return tuple(i for i in self.intervals if i.width < self.protection_width)

    @property
    def passed(self) -> bool:
        return not self.failures


def audit(cells: Iterable[Cell],
          totals: Mapping[Hashable, Iterable[Hashable]] | Iterable[tuple[Hashable, Iterable]],
          protection_width: float = 5, only: Iterable[Hashable] | None = None) -> AuditResult:
    """The derivable interval of every suppressed cell.

    `cells`: every cell of the vintage (a key appearing twice must agree); `totals`: for each
    total's key, the keys of the cells it sums (a total may itself be a member of a larger one),
    as a mapping or as (total, members) pairs when one total has several breakdowns (a unit's
    quarter total is the sum over pathways and over sexes alike). `only`: the suppressed cells to
    solve for (default every one); the constraints are always the whole vintage's.
    """
    from scipy.optimize import linprog

    by_key: dict[Hashable, Cell] = {}
    for c in cells:
        seen = by_key.setdefault(c.key, c)
        if (seen.value, seen.suppressed) != (c.value, c.suppressed):
            raise ValueError(f"cell {c.key!r} is published two ways")
    hidden = [k for k, c in by_key.items() if c.suppressed]
    only = None if only is None else set(only)
    wanted = hidden if only is None else [k for k in hidden if k in only]
    if not wanted:
        return AuditResult((), protection_width)
    index = {k: i for i, k in enumerate(hidden)}
    # every total as: sum(hidden members) - (hidden total) = known part
    rows, rhs = [], []
    pairs = totals.items() if isinstance(totals, Mapping) else totals
    for total, members in pairs:
        members = list(members)
        missing = [m for m in [total, *members] if m not in by_key]
        if missing:
            raise ValueError(f"total {total!r} names cells that are not in the vintage: {missing}")
        row = np.zeros(len(hidden))
        known = 0.0
        for m in members:
            if by_key[m].suppressed:
                row[index[m]] += 1.0
            else:
                known -= by_key[m].value
        if by_key[total].suppressed:
            row[index[total]] -= 1.0
        else:
            known += by_key[total].value
        if row.any():
            rows.append(row)
            rhs.append(known)
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    bounds = [(0, None)] * len(hidden)
    intervals = []
    for k in wanted:
        c = np.zeros(len(hidden))
        c[index[k]] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 2 or high.status == 2:
            raise ValueError("the published cells contradict each other (no feasible values)")
        hi = math.inf if high.status == 3 else -high.fun
        intervals.append(Interval(k, max(0.0, low.fun), hi))
    return AuditResult(tuple(intervals), protection_width)


def grid(values: Mapping[tuple[Hashable, Hashable], int], suppressed: set,
         name: str = "t") -> tuple[list[Cell], dict]:
    """A two-way table with line totals and a grand total, as audit() takes it: `values` by
    (row, column); `suppressed` the (row, column) keys hidden, where a row total is (row, "ALL"),
    a column total ("ALL", column) and the grand total ("ALL", "ALL")."""
    rows = sorted({r for r, _ in values}, key=str)
    cols = sorted({c for _, c in values}, key=str)
    full = {(r, c): values.get((r, c), 0) for r in rows for c in cols}
    for r in rows:
        full[(r, "ALL")] = sum(full[(r, c)] for c in cols)
    for c in cols:
        full[("ALL", c)] = sum(full[(r, c)] for r in rows)
    full[("ALL", "ALL")] = sum(full[(r, c)] for r in rows for c in cols)
    cells = [Cell((name, *k), v, k in suppressed) for k, v in full.items()]
    totals = {(name, r, "ALL"): [(name, r, c) for c in cols] for r in rows}
    totals |= {(name, "ALL", c): [(name, r, c) for r in rows] for c in cols}
    totals[(name, "ALL", "ALL")] = [(name, r, "ALL") for r in rows]
    return cells, totals
