"""The offline summary of a vintage (publication.md §4): one HTML page a program manager reads,
with the stylesheet inline, charts as inline SVG, no script and no link outside the package.

It shows what the package's files hold and nothing more: the 30-day engagement rate of every
program over the quarters, the distribution of time to engagement, and every table. Figures come
from the published tables only, so a suppressed cell appears as `s`, never as a value.

The figures are gathered here; the markup is in publication/templates/.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from publication import charts, fields
from publication.cells import hidden_measures, missing
from publication.model import ALL, PublishedTable, VintageMeta

UNIT, QUARTER = "approving_unit_code", "referral_quarter"
RATE = "engagement_rate_30"
TIME_BUCKET = "engagement_bucket"
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


def _cell(value, kind: str, suppressed: bool) -> Cell:
    if suppressed:
        return Cell("s", "num suppressed", "suppressed")
    if missing(value):
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
    hidden = hidden_measures(table)
    if len(measures) == 1 and len(dims) >= 2:
        across, down = dims[-1], dims[:-1]
        kind = fields.field(measures[0]).type
        columns = list(pd.unique(frame[across]))
        cells = {tuple(r[:-1]): (r[-1], bool(h))
                 for r, h in zip(frame[[*dims, measures[0]]].itertuples(index=False, name=None),
                                 hidden, strict=True)}
        lines = list(dict.fromkeys(tuple(r) for r in frame[down]
                                   .itertuples(index=False, name=None)))
        rows = []
        for line in lines:
            row = [_label(v) for v in line]
            for col in columns:
                value, h = cells.get((*line, col), (None, False))
                row.append(_cell(value, kind, h))
            rows.append(row)
        header = [*down, *("Total" if c == ALL else str(c) for c in columns)]
    else:
        kinds = [fields.field(m).type for m in measures]
        rows = []
        for r, h in zip(frame[[*dims, *measures]].itertuples(index=False, name=None), hidden,
                        strict=True):
            rows.append([_label(v) for v in r[: len(dims)]]
                        + [_cell(v, k, m in h) for v, k, m
                           in zip(r[len(dims):], kinds, measures, strict=True)])
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


def _bar(label: str, value, hidden: bool) -> charts.Bar:
    return charts.Bar(label, None if hidden or missing(value) else float(value), hidden)


def engagement_chart(tables: list[PublishedTable]) -> Markup | None:
    """The 30-day engagement rate of every program (all programs first), a bar per quarter of
    the vintage."""
    table = _find(tables, measure=RATE)
    if table is None:
        return None
    hidden = pd.Series([RATE in h for h in hidden_measures(table)], index=table.frame.index)
    frame = _restrict(table.frame.assign(_hidden=hidden), table.dimensions, (UNIT, QUARTER))
    quarters = [q for q in pd.unique(frame[QUARTER]) if q != ALL]
    units = sorted(u for u in pd.unique(frame[UNIT]) if u != ALL)
    groups = ([ALL] if ALL in set(frame[UNIT]) else []) + units
    cells = {(r[UNIT], r[QUARTER]): (r[RATE], r["_hidden"]) for _, r in frame.iterrows()}
    series = {q: [_bar(f"{u} {q}", *cells.get((u, q), (None, False))) for u in groups]
              for q in quarters}
    labels = ["All programs" if u == ALL else str(u) for u in groups]
    return Markup(charts.grouped_bars("30-day engagement rate (%) by program", labels, series,
                                      y_max=100, unit="%"))


def time_to_engagement_chart(tables: list[PublishedTable]) -> Markup | None:
    """Deflections by days from encounter to engagement, all programs, over the vintage."""
    table = _find(tables, measure=COUNT, dimension=TIME_BUCKET)
    if table is None:
        return None
    hidden = pd.Series([COUNT in h for h in hidden_measures(table)], index=table.frame.index)
    frame = _restrict(table.frame.assign(_hidden=hidden), table.dimensions, (TIME_BUCKET,))
    frame = frame[frame[TIME_BUCKET] != ALL]
    items = [_bar(str(r[TIME_BUCKET]), r[COUNT], bool(r["_hidden"])) for _, r in frame.iterrows()]
    return Markup(charts.bars("Deflections by days from encounter to treatment engagement, "
                              "all programs", items, width=640, height=240))


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
        published_utc=(meta.published_at if meta.published_at.tzinfo is None
                       else meta.published_at.astimezone(dt.UTC)).strftime("%Y-%m-%d %H:%M"),
        suppression_rule=fields.SUPPRESSION_RULE,
        engagement=engagement_chart(tables),
        time_to_engagement=time_to_engagement_chart(tables),
        tables=[html_table(t) for t in tables],
    )
