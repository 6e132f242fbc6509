"""Small inline SVG charts for the validation report (no scripts, no external assets).

A stacked bar chart is all the report needs: one bar per run, one colour per series (a rule code,
or a source). Every bar segment carries a <title>, so hovering shows the exact figure.
"""

from __future__ import annotations

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


def stacked_bars(
    labels: list[str],
    series: dict[str, list[float]],
    title: str,
    width: int = 760,
    height: int = 260,
    colours: dict[str, str] | None = None,
) -> str:
    """An SVG stacked bar chart: `labels` along x, `series` name -> one value per label."""
    colours = dict(colours or {})
    for i, name in enumerate(series):
        colours.setdefault(name, PALETTE[i % len(PALETTE)] if name != "other" else OTHER_COLOUR)
    left, right, top, bottom = 48, 150, 28, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    y_max, y_step = axis(max(totals, default=0))
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" class="chart"><title>{escape(title)}</title>'
        ),
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
        for name, values in series.items():
            v = values[i]
            if not v:
                continue
            h = plot_h * v / y_max
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colours[name]}"><title>{escape(label)}: {escape(name)} {v:g}</title></rect>'
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="end" '
            f'transform="rotate(-35 {x + bar_w / 2:.1f} {top + plot_h + 14})" '
            f'class="tick">{escape(label)}</text>'
        )
    if not labels:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            f'class="tick">no runs yet</text>'
        )
    for j, name in enumerate(series):  # legend
        y = top + 14 * j
        parts.append(
            f'<rect x="{left + plot_w + 14}" y="{y}" width="10" height="10" '
            f'fill="{colours[name]}"/>'
        )
        parts.append(
            f'<text x="{left + plot_w + 28}" y="{y + 9}" class="tick">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
