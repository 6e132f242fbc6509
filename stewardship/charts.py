"""Small inline SVG charts for the validation report (no scripts, no external assets).

A stacked bar chart is all the report needs: one bar per night, one colour per series (a rule
code, or a source; past a handful of sources the largest are kept and the rest is "other").
Every bar segment carries a <title>, so hovering shows the exact figure. The legend wraps under
the plot, so a long name is never cut off; replay runs are hatched.
"""

from __future__ import annotations

import hashlib
import math
from html import escape

# Colour-blind-friendly palette (Okabe-Ito, then Tableau); grey for "other".
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#4E79A7",
    "#F28E2B",
    "#59A14F",
    "#B07AA1",
    "#9C755F",
    "#76B7B2",
    "#EDC948",
    "#FF9DA7",
)
OTHER_COLOUR = "#9E9E9E"


def axis(value: float, ticks: int = 4) -> tuple[float, float]:
    """(top, step) of a y axis showing 0..value: step a 1, 2 or 5 × 10^n, at most `ticks` steps."""
    if value <= 0:
        return 1, 1
    step = 1.0
    while step * ticks < value:
        step *= 10
    for candidate in (step / 10, step / 5, step / 2, step):
        if candidate >= 1 and candidate * ticks >= value:
            step = candidate
            break
    return step * math.ceil(value / step), step


def top_series(series: dict[str, list[float]], keep: int) -> dict[str, list[float]]:
    """The `keep` series of the largest totals, in their order, and the rest summed as
    "other": one colour per series stays told apart however many sources there are."""
    if len(series) <= keep + 1:
        return dict(series)
    ranked = sorted(series, key=lambda k: -sum(series[k]))
    kept = [k for k in series if k in ranked[:keep]]
    n = len(next(iter(series.values())))
    other = [sum(series[k][i] for k in series if k not in kept) for i in range(n)]
    return {**{k: series[k] for k in kept}, "other": other}


LEGEND_ROW = 16
LEGEND_CHAR_W = 6.6  # px per character at the legend's 11 px font, generously


def _legend_layout(names: list[str], x0: float, width: float) -> tuple[list[tuple], int]:
    """(name, x, row) of every legend entry laid out left to right, wrapping at `width`, and
    the number of rows: the legend sits under the plot and is never cut off."""
    out, x, row = [], x0, 0
    for name in names:
        w = 18 + LEGEND_CHAR_W * len(name) + 14
        if x > x0 and x + w > x0 + width:
            x, row = x0, row + 1
        out.append((name, x, row))
        x += w
    return out, row + 1 if names else 0


def stacked_bars(
    labels: list[str],
    series: dict[str, list[float]],
    title: str,
    width: int = 1100,
    height: int = 260,
    colours: dict[str, str] | None = None,
    marked: set[int] | frozenset = frozenset(),
    marked_label: str = "replay",
) -> str:
    """An SVG stacked bar chart: `labels` along x, `series` name -> one value per label.

    Bars whose index is in `marked` (replay runs) are drawn hatched and their label says
    `marked_label`. The legend wraps under the plot; the drawing's height grows with it."""
    colours = dict(colours or {})
    for i, name in enumerate(series):
        colours.setdefault(name, PALETTE[i % len(PALETTE)] if name != "other" else OTHER_COLOUR)
    shown = [f"{label} ({marked_label})" if i in marked else label
             for i, label in enumerate(labels)]
    # room under the plot for the longest x label, turned 35 degrees
    longest = max((len(x) for x in shown), default=0)
    left, right, top, bottom = 48, 16, 28, 30 + round(longest * LEGEND_CHAR_W * 0.58)
    height = max(height, top + bottom + 120)
    plot_w, plot_h = width - left - right, height - top - bottom
    legend, rows = _legend_layout(list(series), left, plot_w)
    full_h = height + rows * LEGEND_ROW + 6
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    y_max, y_step = axis(max(totals, default=0))
    # one page holds several charts: each its own pattern id
    hatch = "hatch-" + hashlib.sha256(title.encode()).hexdigest()[:8]
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{full_h}" viewBox="0 0 {width} {full_h}" class="chart">'
            f"<title>{escape(title)}</title>"
        ),
        (f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" '
         'patternTransform="rotate(45)"><rect width="3" height="6" fill="#fff" '
         'fill-opacity="0.55"/></pattern></defs>'),
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for k in range(round(y_max / y_step) + 1):  # horizontal grid and y ticks
        value = y_step * k
        y = top + plot_h - plot_h * value / y_max
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        text = f"{value:g}" if value < 10000 else f"{value / 1000:g}k"
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{text}</text>'
        )
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = max(min(slot * 0.7, 48), 2)
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        is_marked = i in marked
        for name, values in series.items():
            v = values[i]
            if not v:
                continue
            h = plot_h * v / y_max
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colours[name]}"><title>{escape(shown[i])}: {escape(name)} {v:g}</title>'
                f"</rect>"
            )
            if is_marked:
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                             f'height="{h:.1f}" fill="url(#{hatch})" class="marked"/>')
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="end" '
            f'transform="rotate(-35 {x + bar_w / 2:.1f} {top + plot_h + 14})" '
            f'class="tick{" marked" if is_marked else ""}">{escape(shown[i])}</text>'
        )
    if not labels:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            f'class="tick">no runs yet</text>'
        )
    legend_top = height - 4
    for name, x, row in legend:
        y = legend_top + row * LEGEND_ROW
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="10" height="10" '
                     f'fill="{colours[name]}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y + 9}" class="tick legend">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    return "".join(parts)
