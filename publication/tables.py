"""The published tables of one vintage (publication.md §2): full grids, primary and complementary
suppression, the audit, information loss.

Every count of every table is a variable of one system. Its identity is the measure and the
dimension values that are not `ALL`, so a unit's quarter total is one variable whether it is read
in the III.E.3 table, as the line total of the table by sex or as the encounters of the statutory
measures: cells that share a margin are the same cell and are suppressed together.

Suppression:
1. Primary: a count from 1 to 9. A rate or median is suppressed when its denominator is 1 to 9,
   when the count it is derived from is suppressed (it would give the count back), and a median
   over fewer than 10 values always.
2. Complementary: the audit (transforms.audit, linear programming) is run over the whole vintage;
   for every cell it finds too narrow, one more cell of one of its tables is suppressed: among
   the published positive cells, the nearest (a cell of one of its lines first, then cells
   differing in two dimensions, ...), the least aggregated, then the smallest of at
   least `protection_width`, else the largest; ties by the cell's key. A zero is never chosen
   (it cannot give way downwards, and in a line whose total is 0 it cannot move at all). Repeated until
   the audit passes. Suppressing more never narrows an interval already wide enough, so each
   round solves only for the cells that failed and those just suppressed. Same input, same cells.
3. The final audit is a separate full run over every suppressed cell; `build_vintage` raises
   ProtectionError naming a cell that fails it.

The participants of a line are not additive (a person may be counted by two programs), so they
have no totals in the system; a suppressed participants count is bounded by nothing published.
Inequalities a reader knows (ISP deflections <= all deflections, engaged <= matured <=
encounters) are not constraints of the audit: stated, not hidden.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from deflect.core import vocab
from deflect.core.percent import pct_half_up
from publication.model import ALL, PublishedTable
from transforms import statutory
from transforms.audit import Cell, audit

UNIT = "approving_unit_code"
QUARTER = "referral_quarter"
ORIGIN = "origin"
CATEGORY_TABLES = (
    # (table, dimension, title, categories in their published order)
    ("deflections_by_pathway", "pathway", "Deflections by program, quarter and pathway",
     (*vocab.PATHWAYS, statutory.UNKNOWN)),
    ("deflections_by_sex", "sex", "Deflections by program, quarter and sex",
     (*vocab.SEX_CODES, statutory.UNKNOWN)),
    ("deflections_by_race", "race", "Deflections by program, quarter and race",
     (*vocab.RACE_CODES, statutory.UNKNOWN)),
    ("deflections_by_ethnicity", "ethnicity", "Deflections by program, quarter and ethnicity",
     (*vocab.ETHNICITY_CODES, statutory.UNKNOWN)),
    ("deflections_by_age_band", "age_band", "Deflections by program, quarter and age band",
     statutory.AGE_BANDS),
    ("deflections_by_engagement_bucket", "engagement_bucket",
     "Deflections by program, quarter and days from encounter to treatment engagement",
     statutory.BUCKET_LABELS),
)
COUNTS_TABLE = "deflection_counts"
MEASURES_TABLE = "statutory_measures"
MEASURE_COLUMNS = ("participants", "encounters", "matured_30", "engaged_30",
                   "engagement_rate_30", "median_days_to_engagement")
ORIGINS = ("ISP", ALL)


class ProtectionError(RuntimeError):
    """A vintage whose suppression does not pass the audit: it is not published."""


def primary(value) -> bool:
    return value is not None and 1 <= value <= 9


@dataclass
class Grid:
    """Counts of one measure over dimensions, each value and `ALL` (on `totals_on`), with the
    deflections behind each finest cell."""

    measure: str
    dims: tuple[str, ...]
    values: dict[str, tuple[str, ...]]
    totals_on: tuple[str, ...]
    cells: dict[tuple, int] = field(default_factory=dict)
    members: dict[tuple, list[str]] = field(default_factory=dict)

    def key(self, coords: tuple) -> tuple:
        return (self.measure, tuple((d, v) for d, v in zip(self.dims, coords) if v != ALL))

    def coords(self):
        axes = [(*self.values[d], ALL) if d in self.totals_on else self.values[d]
                for d in self.dims]
        return itertools.product(*axes)

    def constraints(self):
        """(total key, member keys) for every cell with `ALL` on a dimension that has totals."""
        for coords in self.coords():
            for i, d in enumerate(self.dims):
                if coords[i] == ALL:
                    yield self.key(coords), [self.key(coords[:i] + (v,) + coords[i + 1:])
                                             for v in self.values[d]]


def count_grid(rows: pd.DataFrame, measure: str, dims: tuple[str, ...],
               values: dict[str, tuple[str, ...]], totals_on: tuple[str, ...]) -> Grid:
    """The deflections of `rows` counted over `dims` (each value, zero cells included), with
    every total over the dimensions of `totals_on`."""
    grid = Grid(measure, dims, values, totals_on)
    finest: dict[tuple, list[str]] = defaultdict(list)
    for rec in rows[[*dims, "deflection_id"]].itertuples(index=False, name=None):
        finest[rec[:-1]].append(rec[-1])
    for coords in grid.coords():
        if ALL not in coords:
            ids = sorted(finest.get(coords, []))
            grid.members[coords] = ids
            grid.cells[coords] = len(ids)
    for coords in grid.coords():
        if ALL in coords:
            grid.cells[coords] = 0
    totals = [i for i, d in enumerate(dims) if d in totals_on]
    for coords, ids in grid.members.items():
        for mask in itertools.product((False, True), repeat=len(totals)):
            if any(mask):
                up = list(coords)
                for i, on in zip(totals, mask):
                    if on:
                        up[i] = ALL
                grid.cells[tuple(up)] += len(ids)
    return grid


@dataclass
class System:
    """Every count of the vintage: value and suppression by key, and every total's breakdowns."""

    grids: list[Grid]
    value: dict[tuple, int] = field(default_factory=dict)
    hidden: set = field(default_factory=set)
    totals: list[tuple] = field(default_factory=list)
    homes: dict[tuple, list[tuple[Grid, tuple]]] = field(default_factory=dict)

    def __post_init__(self):
        for g in self.grids:
            for coords, n in g.cells.items():
                k = g.key(coords)
                if self.value.setdefault(k, n) != n:
                    raise AssertionError(f"cell {k} has two values")
                self.homes.setdefault(k, []).append((g, coords))
            self.totals.extend(g.constraints())
        self.hidden = {k for k, n in self.value.items() if primary(n)}

    def cells(self) -> list[Cell]:
        return [Cell(k, n, k in self.hidden) for k, n in self.value.items()]

    def audit(self, width: int, only=None):
        return audit(self.cells(), self.totals, width, only=only)

    def partner(self, key: tuple, width: int) -> tuple | None:
        """The cell to suppress next to protect `key` (see the module's rule)."""
        return self._nearest(key, width, lines_only=True) or self._nearest(key, width, False)

    def _nearest(self, key: tuple, width: int, lines_only: bool) -> tuple | None:
        candidates = []
        for g, coords in self.homes[key]:
            if lines_only:  # the cells of its lines: one dimension differs
                others = [coords[:i] + (v,) + coords[i + 1:] for i, d in enumerate(g.dims)
                          for v in ((*g.values[d], ALL) if d in g.totals_on else g.values[d])
                          if v != coords[i]]
            else:
                others = [c for c in g.coords() if c != coords]
            for other_coords in others:
                other = g.key(other_coords)
                n = self.value[other]
                if other in self.hidden or n == 0:
                    # a hidden zero cannot give way downwards, and in a line whose total is
                    # 0 it cannot move at all: it never protects anything
                    continue
                distance = sum(1 for a, b in zip(coords, other_coords) if a != b)
                aggregated = sum(1 for x in other_coords if x == ALL)
                candidates.append(((distance, aggregated, n < width, n if n >= width else -n,
                                    repr(other)), other))
        return min(candidates)[1] if candidates else None

    def protect(self, width: int) -> int:
        """Complementary suppression until the audit passes; the number of rounds."""
        check = set(self.hidden)
        rounds = 0
        while check:
            rounds += 1
            failing = sorted((i.key for i in self.audit(width, only=check).failures), key=repr)
            if not failing:
                return rounds
            added = set()
            for k in failing:
                p = self.partner(k, width)
                if p is None:
                    raise ProtectionError(
                        f"cell {describe(k)} cannot be protected to width {width}: "
                        "every positive cell of its tables is suppressed")
                added.add(p)
            self.hidden |= added
            check = set(failing) | added
        return rounds


def describe(key: tuple) -> str:
    measure, coords = key
    return measure + "[" + ", ".join(f"{d}={v}" for d, v in coords) + "]"


@dataclass
class Vintage:
    tables: list[PublishedTable]
    members: pd.DataFrame       # table_name, cell_key, measure, deflection_id (finest cells)
    cells: pd.DataFrame         # every published cell in long form, true values included
    rounds: int
    suppressed: int


def build_vintage(rows: pd.DataFrame, quarters: tuple[str, ...], width: int) -> Vintage:
    """Every §2 table of the deflections `rows` (statutory.per_deflection's frame) over
    `quarters` (one for a quarterly vintage: no quarter totals; four for an annual one)."""
    rows = rows[rows[QUARTER].isin(quarters)].copy()
    units = tuple(sorted(set(rows[UNIT].dropna())))
    quarter_totals = (QUARTER,) if len(quarters) > 1 else ()
    base = {UNIT: units, QUARTER: tuple(quarters)}
    totals_on = (UNIT, *quarter_totals)
    dims2 = (UNIT, QUARTER)
    grids: dict[str, Grid] = {
        "deflections": count_grid(rows, "deflections", dims2, base, totals_on),
        "isp_deflections": count_grid(rows[rows["isp"].astype(bool)], "isp_deflections", dims2,
                                      base, totals_on),
        "matured_30": count_grid(rows[rows["matured_30"].astype(bool)], "matured_30", dims2,
                                 base, totals_on),
        "engaged_30": count_grid(rows[rows["engaged_30"].astype(bool)], "engaged_30", dims2,
                                 base, totals_on),
    }
    for table, dim, _, categories in CATEGORY_TABLES:
        seen = tuple(sorted(set(rows[dim].dropna()) - set(categories)))  # codes outside vocab
        grids[table] = count_grid(rows, "deflections", (UNIT, QUARTER, dim),
                                  {**base, dim: (*categories, *seen)}, (*totals_on, dim))
    participants = {}
    for coords in grids["deflections"].coords():
        chosen = rows
        for d, v in zip(dims2, coords):
            if v != ALL:
                chosen = chosen[chosen[d] == v]
        participants[coords] = statutory.measures_of(chosen)["participants"] if len(chosen) else 0

    system = System(list(grids.values()))
    p_keys = {c: ("participants", tuple((d, v) for d, v in zip(dims2, c) if v != ALL))
              for c in participants}
    for c, n in participants.items():
        system.value[p_keys[c]] = n
        if primary(n):
            system.hidden.add(p_keys[c])
    rounds = system.protect(width)
    for c, k in p_keys.items():
        # participants <= encounters: a published participants count would bound a suppressed
        # encounters count from below
        if grids["deflections"].key(c) in system.hidden:
            system.hidden.add(k)
    final = system.audit(width)
    if not final.passed:
        bad = final.failures[0]
        raise ProtectionError(f"the vintage fails the disclosure audit: cell {describe(bad.key)} "
                              f"can be derived to [{bad.low:g}, {bad.high:g}], narrower than "
                              f"{width}")

    def shown(key):
        return None if key in system.hidden else system.value[key]

    tables: list[PublishedTable] = []
    long_rows: list[dict] = []
    members: list[tuple] = []

    def emit(table, coords_by_dim: dict, measure, key, value, suppressed):
        long_rows.append({"table_name": table, "cell_key": "/".join(coords_by_dim.values()),
                          ORIGIN: coords_by_dim.get(ORIGIN), UNIT: coords_by_dim.get(UNIT),
                          QUARTER: coords_by_dim.get(QUARTER),
                          "dimension": next((d for d in coords_by_dim
                                             if d not in (ORIGIN, UNIT, QUARTER)), None),
                          "category": next((v for d, v in coords_by_dim.items()
                                            if d not in (ORIGIN, UNIT, QUARTER)), None),
                          "measure": measure, "value": value, "suppressed": suppressed})

    def finest_members(table, grid, coords_by_dim_of, measure):
        for coords, ids in grid.members.items():
            cell_key = "/".join(coords_by_dim_of(coords).values())
            members.extend((table, cell_key, measure, i) for i in ids)

    # III.E.3 counts, by origin
    frame_rows = []
    for origin, gname in (("ISP", "isp_deflections"), (ALL, "deflections")):
        g = grids[gname]
        for coords in g.coords():
            k = g.key(coords)
            by = {ORIGIN: origin, UNIT: coords[0], QUARTER: coords[1]}
            frame_rows.append({**by, "deflections": shown(k), "suppressed": k in system.hidden})
            emit(COUNTS_TABLE, by, "deflections", k, system.value[k], k in system.hidden)
        finest_members(COUNTS_TABLE, g, lambda c, o=origin: {ORIGIN: o, UNIT: c[0], QUARTER: c[1]},
                       "deflections")
    tables.append(_table(COUNTS_TABLE, "Deflections by approving unit and quarter (III.E.3: "
                         "origin ISP; every origin: ALL)", (ORIGIN, UNIT, QUARTER),
                         ("deflections",), frame_rows, system,
                         {k: grids[k] for k in ("deflections", "isp_deflections")}))
    for table, dim, title, _ in CATEGORY_TABLES:
        g = grids[table]
        frame_rows = []
        for coords in g.coords():
            k = g.key(coords)
            by = dict(zip(g.dims, coords))
            frame_rows.append({**by, "deflections": shown(k), "suppressed": k in system.hidden})
            emit(table, by, "deflections", k, system.value[k], k in system.hidden)
        finest_members(table, g, lambda c, dims=g.dims: dict(zip(dims, c)), "deflections")
        tables.append(_table(table, title, g.dims, ("deflections",), frame_rows, system,
                             {table: g}))
    # the statutory measures
    frame_rows = []
    medians = _medians(rows, grids["deflections"])
    for coords in grids["deflections"].coords():
        by = dict(zip(dims2, coords))
        keys = {m: grids[m if m != "encounters" else "deflections"].key(coords)
                for m in ("encounters", "matured_30", "engaged_30")}
        keys["participants"] = p_keys[coords]
        values = {m: system.value[k] for m, k in keys.items()}
        hidden = {m: k in system.hidden for m, k in keys.items()}
        rate = pct_half_up(values["engaged_30"], values["matured_30"])
        hidden["engagement_rate_30"] = rate is not None and (
            primary(values["matured_30"]) or hidden["matured_30"] or hidden["engaged_30"])
        engaged, med = medians[coords]
        hidden["median_days_to_engagement"] = med is not None and engaged < statutory.MEDIAN_MIN_VALUES
        values["engagement_rate_30"], values["median_days_to_engagement"] = rate, med
        row = dict(by)
        for m in MEASURE_COLUMNS:
            row[m] = None if hidden[m] else values[m]
            emit(MEASURES_TABLE, by, m, None, values[m], hidden[m])
        row["suppressed"] = any(hidden.values())
        row["suppressed_measures"] = ",".join(m for m in MEASURE_COLUMNS if hidden[m])
        frame_rows.append(row)
    for m, gname in (("encounters", "deflections"), ("matured_30", "matured_30"),
                     ("engaged_30", "engaged_30")):
        finest_members(MEASURES_TABLE, grids[gname], lambda c: dict(zip(dims2, c)), m)
    frame = pd.DataFrame(frame_rows, columns=[*dims2, *MEASURE_COLUMNS, "suppressed",
                                              "suppressed_measures"], dtype=object)
    frame["suppressed"] = frame["suppressed"].astype(bool)
    cells_long = [r for r in long_rows if r["table_name"] == MEASURES_TABLE]
    loss = _loss([(r["value"], r["suppressed"]) for r in cells_long])
    tables.append(PublishedTable(MEASURES_TABLE, "Statutory measures by program and quarter "
                                 "(50 ILCS 71/25)", dims2, MEASURE_COLUMNS, frame, loss))
    return Vintage(
        tables=tables,
        members=pd.DataFrame(members, columns=["table_name", "cell_key", "measure",
                                               "deflection_id"], dtype=object),
        cells=pd.DataFrame(long_rows, dtype=object),
        rounds=rounds,
        suppressed=len(system.hidden),
    )


def _medians(rows: pd.DataFrame, grid: Grid) -> dict[tuple, tuple[int, float | None]]:
    out = {}
    for coords in grid.coords():
        chosen = rows
        for d, v in zip(grid.dims, coords):
            if v != ALL:
                chosen = chosen[chosen[d] == v]
        m = statutory.measures_of(chosen) if len(chosen) else {"engaged": 0,
                                                              "median_days_to_engagement": None}
        out[coords] = (m["engaged"], m["median_days_to_engagement"])
    return out


def _loss(cells: list[tuple]) -> float:
    """Suppressed cells / non-zero cells (0.0 when no cell is non-zero)."""
    nonzero = sum(1 for v, _ in cells if v not in (None, 0))
    hidden = sum(1 for _, s in cells if s)
    return hidden / nonzero if nonzero else 0.0


def _table(name, title, dims, measures, frame_rows, system, grids) -> PublishedTable:
    frame = pd.DataFrame(frame_rows, columns=[*dims, *measures, "suppressed"], dtype=object)
    frame["suppressed"] = frame["suppressed"].astype(bool)
    cells = [(system.value[g.key(c)], g.key(c) in system.hidden)
             for g in grids.values() for c in g.coords()]
    return PublishedTable(name, title, tuple(dims), tuple(measures), frame, _loss(cells))
