"""Published tables of the shape publication.model describes, made up for the export tests: full
grids with `ALL` totals on every dimension, cells from 1 to 9 suppressed (measures emptied), so
the package code is tested on what it will be handed without the measures being computed."""
from __future__ import annotations

import datetime as dt
import itertools
import random

import pandas as pd

from publication.model import ALL, PublishedTable, VintageMeta

# every unit of the reference, as a real vintage has them: the page must fit them all
UNITS = ("BATF", "CIEG", "CPAT", "DMEG", "ECITF", "KAMEG", "LCMEG", "MANS", "MCMEG", "MEGSI",
         "NCIT", "NCNTF", "QCMEG", "SCIDTF", "SEIDTF", "SIDTF", "SIEG", "SLANT", "VMEG", "WCITF",
         "UNATTRIBUTED")
QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3")
BUCKETS = ("0-7", "8-14", "15-30", "31-60", "61-90", ">90", "not engaged")
META = VintageMeta(vintage_id="2026-Q3.2026-11-14", period="2026-Q3",
                   as_of=dt.date(2026, 11, 14),
                   published_at=dt.datetime(2026, 11, 15, 7, 30, tzinfo=dt.UTC),
                   run_id="run-20261115T073000", protection_width=5)


def count_table(name: str, title: str, dims: dict[str, tuple[str, ...]], seed: int
                ) -> PublishedTable:
    """A count table: random cells, totals summed over every dimension, 1-9 suppressed."""
    rng = random.Random(seed)
    names = list(dims)
    base = {cell: rng.choice([0, 0, 3, 12, 25, 40, 7, 60])
            for cell in itertools.product(*dims.values())}
    rows = []
    for cell in itertools.product(*[(*v, ALL) for v in dims.values()]):
        value = sum(n for c, n in base.items()
                    if all(x == ALL or x == y for x, y in zip(cell, c, strict=True)))
        hidden = 1 <= value <= 9
        rows.append({**dict(zip(names, cell, strict=True)),
                     "deflections": None if hidden else value, "suppressed": hidden})
    frame = pd.DataFrame(rows)
    frame["deflections"] = frame["deflections"].astype("Int64")
    nonzero = sum(1 for r in rows if r["suppressed"] or r["deflections"])
    loss = sum(r["suppressed"] for r in rows) / nonzero if nonzero else 0.0
    return PublishedTable(name, title, tuple(names), ("deflections",), frame, loss)


MEASURES = ("participants", "encounters", "matured_30", "engaged_30", "engagement_rate_30",
            "median_days_to_engagement")


def measures_table(seed: int = 7) -> PublishedTable:
    """The statutory measures by program and quarter: a row may hide some of its measures and
    name them in `suppressed_measures`, as publication.tables writes it."""
    rng = random.Random(seed)
    rows = []
    for unit, quarter in itertools.product((*UNITS, ALL), (*QUARTERS, ALL)):
        encounters = rng.choice([0, 5, 14, 30, 52, 75, 90])
        matured = encounters if quarter != "2026-Q3" else encounters // 2
        engaged = rng.randint(matured // 3, matured)
        values = {"participants": max(encounters - 2, 0), "encounters": encounters,
                  "matured_30": matured, "engaged_30": engaged,
                  "engagement_rate_30": (None if matured == 0
                                         else float(f"{100 * engaged / matured + 1e-9:.1f}")),
                  "median_days_to_engagement": float(rng.randint(3, 40)) if engaged else None}
        hidden = {m for m in ("participants", "encounters", "matured_30", "engaged_30")
                  if 1 <= values[m] <= 9}
        if 1 <= matured <= 9 or {"matured_30", "engaged_30"} & hidden:
            hidden.add("engagement_rate_30")
        if 0 < engaged < 10:
            hidden.add("median_days_to_engagement")
        hidden = {m for m in hidden if values[m] is not None}
        row = {"approving_unit_code": unit, "referral_quarter": quarter}
        row.update({m: None if m in hidden else values[m] for m in MEASURES})
        row["suppressed"] = bool(hidden)
        row["suppressed_measures"] = ",".join(m for m in MEASURES if m in hidden)
        rows.append(row)
    frame = pd.DataFrame(rows, dtype=object)
    frame["suppressed"] = frame["suppressed"].astype(bool)
    return PublishedTable("statutory_measures", "Statutory measures by program and quarter",
                          ("approving_unit_code", "referral_quarter"), MEASURES, frame, 0.2)


def vintage_tables() -> list[PublishedTable]:
    return [
        count_table("deflection_counts", "Deflections by program and quarter",
                    {"origin": ("ISP",), "approving_unit_code": UNITS,
                     "referral_quarter": QUARTERS}, seed=1),
        count_table("deflections_by_engagement_bucket",
                    "Deflections by days from encounter to treatment engagement",
                    {"approving_unit_code": UNITS, "referral_quarter": QUARTERS,
                     "engagement_bucket": BUCKETS}, seed=2),
        measures_table(),
    ]
