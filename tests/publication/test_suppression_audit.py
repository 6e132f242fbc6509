"""Complementary suppression (publication/tables.py) against the separate LP audit
(transforms/audit.py): on random vintages of tables sharing margins, every suppressed cell's
derivable interval is at least `protection_width` wide, with constraints written here from the
data, not taken from the suppression's own code; and a planted weak suppression is caught."""
from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from publication.model import ALL
from publication.tables import System, build_vintage, count_grid
from transforms import statutory
from transforms.audit import Cell, audit

UNITS = ("A", "B", "C", "D", "E", "UNATTRIBUTED")


def random_rows(seed: int) -> pd.DataFrame:
    rnd = random.Random(seed)
    n = rnd.randint(5, 120)
    units = UNITS[: rnd.randint(2, len(UNITS))]
    weights = [rnd.random() ** 2 for _ in units]
    return pd.DataFrame({
        "deflection_id": [f"D{i:04d}" for i in range(n)],
        "unit": rnd.choices(units, weights, k=n),
        "quarter": "2026-Q3",
        "sex": rnd.choices(("M", "F", "X"), (6, 3, 1), k=n),
        "band": rnd.choices(("<18", "18-24", "25-34", "65+"), k=n),
    })


def independent_system(rows: pd.DataFrame, units, hidden_keys) -> tuple[list, list]:
    """Cells and totals of the vintage (unit margin shared by two tables), from the data."""
    cells, totals = {}, []

    def key(**coords):
        return ("deflections", tuple((d, v) for d, v in coords.items() if v != ALL))

    q = "2026-Q3"
    for u in units:
        cells[key(unit=u, quarter=q)] = int((rows["unit"] == u).sum())
    cells[key(unit=ALL, quarter=q)] = len(rows)
    totals.append((key(unit=ALL, quarter=q), [key(unit=u, quarter=q) for u in units]))
    for dim, values in (("sex", ("M", "F", "X")), ("band", ("<18", "18-24", "25-34", "65+"))):
        for u in (*units, ALL):
            mine = rows if u == ALL else rows[rows["unit"] == u]
            for v in values:
                cells[key(unit=u, quarter=q, **{dim: v})] = int((mine[dim] == v).sum())
            totals.append((key(unit=u, quarter=q), [key(unit=u, quarter=q, **{dim: v})
                                                    for v in values]))
        for v in values:
            totals.append((key(unit=ALL, quarter=q, **{dim: v}),
                           [key(unit=u, quarter=q, **{dim: v}) for u in units]))
    return [Cell(k, n, k in hidden_keys) for k, n in cells.items()], totals


def suppress(rows: pd.DataFrame, width: int) -> tuple[System, tuple]:
    units = tuple(sorted(set(rows["unit"])))
    base = {"unit": units, "quarter": ("2026-Q3",)}
    grids = [count_grid(rows, "deflections", ("unit", "quarter"), base, ("unit",)),
             count_grid(rows, "deflections", ("unit", "quarter", "sex"),
                        {**base, "sex": ("M", "F", "X")}, ("unit", "sex")),
             count_grid(rows, "deflections", ("unit", "quarter", "band"),
                        {**base, "band": ("<18", "18-24", "25-34", "65+")}, ("unit", "band"))]
    system = System(grids)
    system.protect(width)
    return system, units


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("width", [3, 5])
def test_every_suppressed_cell_is_protected_by_the_independent_audit(seed, width):
    rows = random_rows(seed)
    system, units = suppress(rows, width)
    cells, totals = independent_system(rows, units, system.hidden)
    assert {c.key for c in cells} == set(system.value), "the suppression's cells are the data's"
    result = audit(cells, totals, width)
    assert result.passed, result.failures[:3]
    # every primary cell is suppressed, and zero cells are published unless needed
    for c in cells:
        if 1 <= c.value <= 9:
            assert c.suppressed, c.key
    # same input, same cells
    again, _ = suppress(rows, width)
    assert again.hidden == system.hidden


def test_a_planted_weak_suppression_is_caught():
    rows = random_rows(3)
    system, units = suppress(rows, 5)
    # un-suppress complementary cells until one primary cell stands alone in its line: the
    # audit, given the same data, must name a cell
    primary = {k for k, n in system.value.items() if 1 <= n <= 9}
    weak = set(primary)
    cells, totals = independent_system(rows, units, weak)
    result = audit(cells, totals, 5)
    assert not result.passed
    assert all(f.key in primary for f in result.failures)
    assert any(f.width < 5 for f in result.failures)


def test_one_hidden_cell_with_a_published_total_is_recovered_exactly():
    rows = pd.DataFrame({"deflection_id": [f"D{i}" for i in range(23)],
                         "unit": ["A"] * 3 + ["B"] * 20, "quarter": "2026-Q3",
                         "sex": ["M"] * 23, "band": ["<18"] * 23})
    units = ("A", "B")
    key = ("deflections", (("unit", "A"), ("quarter", "2026-Q3")))
    cells, totals = independent_system(rows, units, {key})
    result = audit(cells, totals, 5)
    (interval,) = result.intervals
    assert (interval.low, interval.high) == (3, 3) and not result.passed


def per_deflection_rows(seed: int) -> pd.DataFrame:
    rnd = random.Random(seed)
    start = dt.date(2026, 7, 1)
    frame = pd.DataFrame([{
        "deflection_id": f"D{i:04d}", "person_key": rnd.choice([None, f"k{rnd.randint(0, 60)}"]),
        "referral_date": start + dt.timedelta(rnd.randint(0, 91)), "referral_quarter": "2026-Q3",
        "pathway": rnd.choice(("SELF_REFERRAL", "ACTIVE_OUTREACH", "NALOXONE_PLUS")),
        "approving_unit_code": rnd.choice(UNITS[: 2 + seed % 4]),
        "originating_agency_type": rnd.choice(("ISP_DOP", "ISP_DCI", "MEG", "LOCAL")),
        "sex": rnd.choice(("M", "F", None)), "race": rnd.choice(("W", "B", None)),
        "ethnicity": rnd.choice(("H", "N", None)), "age_at_referral": rnd.randint(14, 70),
        "encounter_date": None} for i in range(rnd.randint(20, 150))], dtype=object)
    frame["encounter_date"] = frame["referral_date"]
    evals = pd.DataFrame([{"deflection_id": d, "evaluation_date": r + dt.timedelta(rnd.randint(0, 60)),
                           "result": rnd.choice(("ENG", "NOC"))}
                          for d, r in zip(frame["deflection_id"], frame["referral_date"])],
                         dtype=object)
    return statutory.per_deflection(frame, evals, dt.date(2026, 11, 14))


@pytest.mark.parametrize("seed", range(4))
def test_a_whole_vintage_passes_and_hides_nothing_through_its_frames(seed):
    vintage = build_vintage(per_deflection_rows(seed), ("2026-Q3",), 5)
    for t in vintage.tables:
        frame = t.frame
        # a full grid: every unit, and the ALL line
        assert "ALL" in set(frame["approving_unit_code"])
        for m in t.measures:
            if "suppressed_measures" in frame:
                hidden = frame["suppressed_measures"].str.split(",").apply(lambda s, m=m: m in s)
            else:
                hidden = frame["suppressed"]
            assert frame.loc[hidden, m].isna().all(), (t.name, m)
        # information loss: the table's suppressed cells over its non-zero cells
        mine = vintage.cells[vintage.cells["table_name"] == t.name]
        nonzero = sum(1 for v in mine["value"] if v is not None and not pd.isna(v) and v != 0)
        assert t.information_loss == pytest.approx(mine["suppressed"].astype(bool).sum() / nonzero)
    # the counts of a category table add up to their published totals where all are shown
    cells = vintage.cells
    sex = cells[(cells["table_name"] == "deflections_by_sex") & ~cells["suppressed"]]
    for u, g in sex.groupby("approving_unit_code"):
        inner = g[g["category"] != "ALL"]
        total = g[g["category"] == "ALL"]
        if len(inner) == 5 and len(total):  # M F X U unknown all shown
            assert sum(inner["value"]) == total["value"].iloc[0]
