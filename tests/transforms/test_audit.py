"""The disclosure audit (transforms/audit.py): the derivable interval of every suppressed cell
by linear programming, on hand-made tables with known answers and on random ones."""
from __future__ import annotations

import itertools
import math
import random

import pytest

from transforms.audit import Cell, audit, grid


def test_one_suppressed_cell_in_a_line_with_a_published_total_is_recovered_exactly():
    cells, totals = grid({("A", "Q1"): 3, ("A", "Q2"): 20}, suppressed={("A", "Q1")})
    result = audit(cells, totals, protection_width=5)
    (i,) = result.intervals
    assert (i.low, i.high) == (3, 3) and not result.passed


def test_the_leak_of_the_issue_is_caught_total_minus_one_cell_bounds_two_others():
    # CIEG: total 14, Q4 11 published, Q2 and Q3 suppressed: each is 0..3, a range, not a secret
    values = {("CIEG", "Q2"): 1, ("CIEG", "Q3"): 2, ("CIEG", "Q4"): 11}
    cells, totals = grid(values, suppressed={("CIEG", "Q2"), ("CIEG", "Q3"), ("ALL", "Q2"),
                                             ("ALL", "Q3")})
    result = audit(cells, totals, protection_width=5)
    got = {i.key[1:]: (i.low, i.high) for i in result.intervals}
    assert got[("CIEG", "Q2")] == (0, 3) and got[("CIEG", "Q3")] == (0, 3)
    assert not result.passed


def test_cells_hidden_with_their_totals_can_be_unbounded_and_protected():
    values = {("A", "Q1"): 2, ("A", "Q2"): 30, ("B", "Q1"): 40, ("B", "Q2"): 50}
    hidden = {("A", "Q1"), ("A", "Q2"), ("B", "Q1"), ("B", "Q2"), ("A", "ALL"), ("B", "ALL"),
              ("ALL", "Q1"), ("ALL", "Q2")}
    cells, totals = grid(values, suppressed=hidden)
    result = audit(cells, totals, protection_width=5)
    assert result.passed and all(i.width >= 5 for i in result.intervals)


def test_a_classic_safe_pattern_passes_and_its_interval_is_exact():
    # four cells hidden in a rectangle: each can move by the smallest of the four (and its
    # partner cells' published room), here 0..+10 around the small ones
    values = {("A", "Q1"): 2, ("A", "Q2"): 10, ("B", "Q1"): 10, ("B", "Q2"): 2,
              ("A", "Q3"): 50, ("B", "Q3"): 60}
    hidden = {("A", "Q1"), ("A", "Q2"), ("B", "Q1"), ("B", "Q2")}
    cells, totals = grid(values, suppressed=hidden)
    result = audit(cells, totals, protection_width=5)
    got = {i.key[1:]: (i.low, i.high) for i in result.intervals}
    assert got[("A", "Q1")] == (0, 12) and got[("B", "Q2")] == (0, 12)
    assert result.passed


def test_tables_sharing_margins_are_one_system():
    # two tables share the unit x quarter totals: a total safe in one table alone is pinned by
    # the other, where it is published
    by_pathway = {("A|Q1", "P1"): 3, ("A|Q1", "P2"): 4}
    cells, totals = grid(by_pathway, suppressed={("A|Q1", "P1"), ("A|Q1", "P2"),
                                                 ("A|Q1", "ALL"), ("ALL", "ALL"),
                                                 ("ALL", "P1"), ("ALL", "P2")}, name="pathway")
    shared_total = ("pathway", "A|Q1", "ALL")
    cells.append(Cell(("counts", "A", "Q1"), 7, False))  # the same number, published elsewhere
    totals[shared_total] = list(totals[shared_total])
    totals[("counts", "A", "Q1")] = [shared_total]  # equal: one is the other
    result = audit(cells, totals, protection_width=5)
    got = {i.key: (i.low, i.high) for i in result.intervals}
    assert got[shared_total] == (7, 7)
    assert got[("pathway", "A|Q1", "P1")] == (0, 7)


def test_contradictory_publication_is_an_error():
    cells = [Cell("t", 5, False), Cell("a", 1, True), Cell("b", 9, False)]
    with pytest.raises(ValueError, match="contradict"):
        audit(cells, {"t": ["a", "b"]})


def _random_table(rng: random.Random):
    units, quarters = rng.randint(2, 5), rng.randint(2, 4)
    return {(f"U{u}", f"Q{q}"): rng.choice([0, 0, 1, 2, 3, 5, 8])
            for u, q in itertools.product(range(units), range(quarters))}


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_audit_agrees_with_brute_force(seed):
    """On small random tables the LP interval equals the integer interval found by enumerating
    every assignment consistent with what is published (two-way tables: they coincide)."""
    rng = random.Random(seed)
    values = _random_table(rng)
    keys = list(values)
    hidden = set(rng.sample(keys, k=min(len(keys), rng.randint(2, 3))))
    cells, totals = grid(values, suppressed=hidden)
    result = audit(cells, totals, protection_width=5)
    # brute force over the hidden interior cells (totals all published here)
    order = sorted(hidden)
    row_total = {r: sum(v for (r2, _), v in values.items() if r2 == r) for r, _ in values}
    lows = dict.fromkeys(order, math.inf)
    highs = dict.fromkeys(order, -math.inf)
    rows = {r for r, _ in values}
    cols = {c for _, c in values}
    for guess in itertools.product(*(range(row_total[r] + 1) for r, _ in order)):
        trial = {**values, **dict(zip(order, guess))}
        if all(sum(trial[(r, c)] for c in cols) == sum(values[(r, c)] for c in cols)
               for r in rows) and all(
                sum(trial[(r, c)] for r in rows) == sum(values[(r, c)] for r in rows)
                for c in cols):
            for k, v in zip(order, guess):
                lows[k], highs[k] = min(lows[k], v), max(highs[k], v)
    got = {i.key[1:]: (round(i.low, 6), round(i.high, 6)) for i in result.intervals}
    assert got == {k: (lows[k], highs[k]) for k in order}
