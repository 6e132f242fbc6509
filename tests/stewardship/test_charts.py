import re

from stewardship.charts import axis, stacked_bars


def test_axis_steps_are_whole_1_2_5_multiples_with_at_most_four_steps():
    got = {v: axis(v) for v in (0, 1, 3, 7, 11, 32, 180, 2001)}
    assert got == {
        0: (1, 1),
        1: (1, 1),
        3: (3, 1),
        7: (8, 2),
        11: (15, 5),
        32: (40, 10),
        180: (200, 50),
        2001: (3000, 1000),
    }


def test_stacked_bars_draws_one_segment_per_nonzero_value_with_a_tooltip():
    svg = stacked_bars(["r1", "r2"], {"F01": [2, 0], "W10": [1, 3]}, "Findings <by code>")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert len(re.findall(r"<rect [^>]*height=\"[0-9.]+\"[^>]*><title>", svg)) == 3
    assert "r2: W10 3" in svg and "Findings &lt;by code&gt;" in svg
    assert "<script" not in svg
