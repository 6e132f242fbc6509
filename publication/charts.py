"""Inline SVG bar charts for the published summary page, drawn here so that the page has no
script and no external asset (like the validation report's charts).

A bar is a value or a suppressed cell; a suppressed cell is drawn as an empty dashed slot marked
`s`, never with a height, so a chart cannot show what the tables hide. Every bar carries a
<title>, so hovering shows the exact published figure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

# Colour-blind-friendly (Okabe-Ito), one colour per quarter.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
BAR = "#0072B2"
TOTAL_BAR = "#1f3a5f"
SUPPRESSED = "#9E9E9E"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None   # None: no value (nothing to measure) unless suppressed
    suppressed: bool = False


def axis(value: float, ticks: int = 4) -> tuple[float, float]:
    """(top, step) of a y axis showing 0..value: step a 1, 2 or 5 × 10^n, at most `ticks` steps."""
    if value <= 0:
        return 1, 1
    step = 10.0 ** math.floor(math.log10(value / ticks)) if value > ticks else 1.0
    for factor in (1, 2, 5, 10):
        if step * factor * ticks >= value:
            step *= factor
            break
    return step * math.ceil(value / step), step


def _fmt(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


def _frame(title: str, width: int, height: int, left: float, top: float, plot_w: float,
           plot_h: float, top_value: float, step: float, unit: str) -> list[str]:
    """The opening of a chart: the SVG element, its title, and the y axis's grid lines and
    ticks."""
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" class="chart"><title>{escape(title)}</title>'),
        f'<text x="4" y="15" class="chart-title">{escape(title)}</text>',
    ]
    for k in range(round(top_value / step) + 1):
        v = step * k
        y = top + plot_h - plot_h * v / top_value
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
                     f'class="tick">{escape(_fmt(v, unit))}</text>')
    return parts


def _close(parts: list[str], any_data: bool, cx: float, cy: float) -> str:
    """The end of a chart: a note in its middle when there is nothing to draw."""
    if not any_data:
        parts.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" class="tick">'
                     'nothing to show</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars(title: str, items: list[Bar], *, width: int = 360, height: int = 200,
         y_max: float | None = None, unit: str = "", colour: str = BAR) -> str:
    """An SVG bar chart, one bar per item, values printed above the bars."""
    left, right, top, bottom = 40, 8, 26, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((b.value for b in items if b.value is not None and not b.suppressed),
                  default=0)
    top_value, step = axis(y_max if y_max is not None else highest)
    parts = _frame(title, width, height, left, top, plot_w, plot_h, top_value, step, unit)
    slot = plot_w / max(len(items), 1)
    bar_w = max(min(slot * 0.7, 40), 2)
    base = top + plot_h
    for i, b in enumerate(items):
        x = left + slot * i + (slot - bar_w) / 2
        cx = x + bar_w / 2
        if b.suppressed:
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{plot_h:.1f}" '
                f'fill="none" stroke="{SUPPRESSED}" stroke-dasharray="3 3" class="suppressed">'
                f'<title>{escape(b.label)}: suppressed</title></rect>'
                f'<text x="{cx:.1f}" y="{base - 4:.1f}" text-anchor="middle" '
                f'class="tick suppressed-mark">s</text>')
        elif b.value is None:
            parts.append(f'<text x="{cx:.1f}" y="{base - 4:.1f}" text-anchor="middle" '
                         f'class="tick"><title>{escape(b.label)}: no value</title>–</text>')
        else:
            h = plot_h * b.value / top_value
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}" class="bar"><title>{escape(b.label)}: '
                f'{escape(_fmt(b.value, unit))}</title></rect>'
                f'<text x="{cx:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" '
                f'class="tick">{escape(_fmt(b.value, unit))}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{base + 14}" text-anchor="middle" '
                     f'class="tick">{escape(b.label)}</text>')
    return _close(parts, bool(items), left + plot_w / 2, top + plot_h / 2)


def grouped_bars(title: str, groups: list[str], series: dict[str, list[Bar]], *,
                 width: int = 1180, height: int = 280, y_max: float | None = None,
                 unit: str = "") -> str:
    """An SVG grouped bar chart: one group per label of `groups` (along x), one bar in each
    for every series (name -> one Bar per group), a legend of the series."""
    left, right, top, bottom = 40, 110, 26, 74
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((b.value for bars_ in series.values() for b in bars_
                   if b.value is not None and not b.suppressed), default=0)
    top_value, step = axis(y_max if y_max is not None else highest)
    parts = _frame(title, width, height, left, top, plot_w, plot_h, top_value, step, unit)
    names = list(series)
    colours = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    slot = plot_w / max(len(groups), 1)
    bar_w = max(min(slot * 0.8 / max(len(names), 1), 22), 2)
    base = top + plot_h
    for g, label in enumerate(groups):
        x0 = left + slot * g + (slot - bar_w * len(names)) / 2
        for j, name in enumerate(names):
            b = series[name][g]
            x = x0 + bar_w * j
            what = f"{label}, {name}"
            if b.suppressed:
                parts.append(
                    f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{plot_h:.1f}" '
                    f'fill="none" stroke="{SUPPRESSED}" stroke-dasharray="3 3" '
                    f'class="suppressed"><title>{escape(what)}: suppressed</title></rect>'
                    f'<text x="{x + bar_w / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle" '
                    f'class="tick suppressed-mark">s</text>')
            elif b.value is None:  # nothing to measure: marked, so it does not read as 0
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - 4:.1f}" '
                             f'text-anchor="middle" class="tick"><title>{escape(what)}: no '
                             f'value</title>–</text>')
            else:
                h = plot_h * b.value / top_value
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                    f'height="{h:.1f}" fill="{colours[name]}" class="bar"><title>{escape(what)}: '
                    f'{escape(_fmt(b.value, unit))}</title></rect>')
                if bar_w >= 16:  # room for the figure above the bar
                    parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - h - 3:.1f}" '
                                 f'text-anchor="middle" class="tick">{b.value:g}</text>')
        cx = left + slot * g + slot / 2
        parts.append(f'<text x="{cx:.1f}" y="{base + 12}" text-anchor="end" '
                     f'transform="rotate(-35 {cx:.1f} {base + 12})" '
                     f'class="tick">{escape(label)}</text>')
    for j, name in enumerate(names):  # legend
        y = top + 16 * j
        parts.append(f'<rect x="{left + plot_w + 14}" y="{y}" width="10" height="10" '
                     f'fill="{colours[name]}"/>'
                     f'<text x="{left + plot_w + 28}" y="{y + 9}" class="tick">'
                     f'{escape(name)}</text>')
    return _close(parts, bool(groups), left + plot_w / 2, top + plot_h / 2)
