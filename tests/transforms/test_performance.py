"""build_marts must handle ~100k deflections in a few seconds (vectorised, loops per deflection
at most, never per form)."""
import datetime as dt
import time

import pytest

from deflect.core.units import load_units
from tests.transforms.synthetic import synthetic_current
from transforms import build_marts


def _run(n, other_forms):
    current = synthetic_current(n, other_forms=other_forms)
    start = time.perf_counter()
    m = build_marts(current, load_units(), dt.date(2026, 11, 1))
    return m, time.perf_counter() - start


def test_ten_thousand_deflections_quickly():
    m, seconds = _run(10_000, 20_000)
    # about 80 % of the MEG deflections name a TraCS report with the same person key and link
    linked = int((m.deflection["sources"] == "TRACS+MEG").sum())
    assert 7_500 < linked < 8_500
    assert len(m.deflection) == 20_000 - linked
    assert m.deflection["deflection_id"].is_unique
    assert seconds < 10


@pytest.mark.slow
def test_a_hundred_thousand_deflections():
    m, seconds = _run(100_000, 200_000)
    assert m.deflection["deflection_id"].is_unique
    assert int(m.deflection_counts["deflections"].sum()) == len(m.deflection)
    print(f"build_marts over {len(m.deflection)} deflections: {seconds:.1f} s")
    assert seconds < 30  # about 5 s measured on the project machine; generous for noise
