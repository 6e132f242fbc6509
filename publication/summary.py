"""The offline summary of a vintage (publication.md §4): one HTML page a program manager reads,
with the stylesheet inline, charts as inline SVG, no script and no link outside the package.

It shows what the package's files hold and nothing more: the 30-day engagement rate of every
program over the quarters, the distribution of time to engagement, and every table. Figures come
from the published tables only, so a suppressed cell appears as `s`, never as a value.

The figures are gathered here; the markup is in publication/templates/.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from publication import charts, fields
from publication.model import ALL, PublishedTable, VintageMeta

UNIT, QUARTER = "approving_unit_code", "referral_quarter"
RATE = "engagement_rate_30_days"
TIME_BUCKET = "time_to_engagement"
COUNT = "deflections"
# A table longer than this many rows starts folded, so the page opens on the charts.
OPEN_ROWS = 40


@dataclass(frozen=True)
class Cell:
    text: str
    css: str = "num"
    title: str = ""


@dataclass(frozen=True)
class HtmlTable:
    name: str
    title: str
    information_loss: float
    header: list[str]
    rows: list[list[Cell]]
    open: bool


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _cell(value, kind: str, suppressed: bool) -> Cell:
    if suppressed:
        return Cell("s", "num suppressed", "suppressed")
    if _missing(value):
        return Cell("–", "num", "no value")
    if kind == "integer":
        return Cell(f"{int(value):,}")
    if kind == "number":
        return Cell(f"{float(value):.1f}")
    return Cell(str(value), "")


def _label(value) -> Cell:
    text = str(value)
    return Cell("Total" if text == ALL else text, "dim total" if text == ALL else "dim")


def _restrict(frame: pd.DataFrame, dims: tuple[str, ...], keep: tuple[str, ...]) -> pd.DataFrame:
    """Rows of `frame` at the total (`ALL`) of every dimension not in `keep`; where a dimension
    has no total (a choice such as `origin`), its first value."""
    for dim in dims:
        if dim in keep:
            continue
        values = list(pd.unique(frame[dim]))
        pick = ALL if ALL in values else (values[0] if values else None)
        frame = frame[frame[dim] == pick]
    return frame


def html_table(table: PublishedTable) -> HtmlTable:
    """The table as a reader reads it: with one measure, the last dimension across."""
    frame = table.frame
    dims, measures = list(table.dimensions), list(table.measures)
    if len(measures) == 1 and len(dims) >= 2:
        across, down = dims[-1], dims[:-1]
        kind = fields.field(measures[0]).type
        columns = list(pd.unique(frame[across]))
        cells = {tuple(r[: len(dims)]): (r[len(dims)], bool(r[-1]))
                 for r in frame[[*dims, measures[0], "suppressed"]]
                 .itertuples(index=False, name=None)}
        lines = list(dict.fromkeys(tuple(r) for r in frame[down]
                                   .itertuples(index=False, name=None)))
        rows = []
        for line in lines:
            row = [_label(v) for v in line]
            for col in columns:
                value, hidden = cells.get((*line, col), (None, False))
                row.append(_cell(value, kind, hidden))
            rows.append(row)
        header = [*down, *("Total" if c == ALL else str(c) for c in columns)]
    else:
        kinds = [fields.field(m).type for m in measures]
        rows = []
        for r in frame[[*dims, *measures, "suppressed"]].itertuples(index=False, name=None):
            hidden = bool(r[-1])
            rows.append([_label(v) for v in r[: len(dims)]]
                        + [_cell(v, k, hidden)
                           for v, k in zip(r[len(dims):-1], kinds, strict=True)])
        header = [*dims, *measures]
    return HtmlTable(table.name, table.title, float(table.information_loss), header, rows,
                     open=len(rows) <= OPEN_ROWS)


def _find(tables: list[PublishedTable], *, measure: str | None = None,
          dimension: str | None = None) -> PublishedTable | None:
    for t in tables:
        if ((measure is None or measure in t.measures)
                and (dimension is None or dimension in t.dimensions)
                and {UNIT, QUARTER} <= set(t.dimensions)):
            return t
    return None


def engagement_charts(tables: list[PublishedTable]) -> list[Markup]:
    """One small chart per program (the statewide total first): its 30-day engagement rate in
    each quarter of the vintage."""
    table = _find(tables, measure=RATE)
    if table is None:
        return []
    frame = _restrict(table.frame, table.dimensions, (UNIT, QUARTER))
    quarters = [q for q in pd.unique(frame[QUARTER]) if q != ALL]
    units = [u for u in pd.unique(frame[UNIT]) if u != ALL]
    out = []
    for unit in ([ALL] if ALL in set(frame[UNIT]) else []) + sorted(units):
        lines = frame[frame[UNIT] == unit].set_index(QUARTER)
        items = []
        for q in quarters:
            if q not in lines.index:
                continue
            row = lines.loc[q]
            items.append(charts.Bar(str(q), None if _missing(row[RATE]) else float(row[RATE]),
                                    bool(row["suppressed"]) and _missing(row[RATE])))
        name = "All programs" if unit == ALL else str(unit)
        out.append(Markup(charts.bars(name, items, width=max(200, 60 + 56 * len(items)),
                                      height=170, y_max=100, unit="%",
                                      colour=charts.TOTAL_BAR if unit == ALL else charts.BAR)))
    return out


def time_to_engagement_chart(tables: list[PublishedTable]) -> Markup | None:
    """Deflections by days from encounter to engagement, all programs, over the vintage."""
    table = _find(tables, measure=COUNT, dimension=TIME_BUCKET)
    if table is None:
        return None
    frame = _restrict(table.frame, table.dimensions, (TIME_BUCKET,))
    frame = frame[frame[TIME_BUCKET] != ALL]
    items = [charts.Bar(str(r[TIME_BUCKET]), None if _missing(r[COUNT]) else float(r[COUNT]),
                        bool(r["suppressed"]))
             for _, r in frame.iterrows()]
    return Markup(charts.bars("Deflections by days from encounter to treatment engagement",
                              items, width=640, height=240))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("publication", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def render(meta: VintageMeta, tables: list[PublishedTable]) -> str:
    env = _environment()
    css, _, _ = env.loader.get_source(env, "summary.css")
    return env.get_template("summary.html").render(
        css=Markup(css),  # our own stylesheet, not data
        meta=meta,
        suppression_rule=fields.SUPPRESSION_RULE,
        engagement=engagement_charts(tables),
        time_to_engagement=time_to_engagement_chart(tables),
        tables=[html_table(t) for t in tables],
    )
