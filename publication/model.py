"""What a published vintage is made of (publication.md §2-§4), shared by the code that builds the
tables and the code that stores and exports them.

A published table is a full grid: every combination of its dimensions appears, zero cells
included, with line totals on every dimension and a grand total, where a total's dimension value
is `ALL`. Measures are null where the cell is suppressed, so nothing suppressed can leak through
a file, a view or a chart.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

ALL = "ALL"


@dataclass(frozen=True)
class PublishedTable:
    name: str                      # file and table name, e.g. "deflections_by_sex"
    title: str                     # one line a reader understands
    dimensions: tuple[str, ...]    # e.g. ("origin", "approving_unit_code", "referral_quarter", "sex")
    measures: tuple[str, ...]      # value columns, e.g. ("deflections",)
    frame: pd.DataFrame            # dimensions + measures (null where suppressed) + `suppressed`
    information_loss: float        # suppressed cells / non-zero cells (0.0 when none is non-zero)


@dataclass(frozen=True)
class VintageMeta:
    vintage_id: str                # e.g. "2026-Q3.2026-11-14"
    period: str                    # "2026-Q3", or "2026" for an annual package
    as_of: dt.date
    published_at: dt.datetime      # UTC
    run_id: str
    protection_width: int
