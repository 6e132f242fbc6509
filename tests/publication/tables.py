"""Published tables of the shape publication.model describes, made up for the export tests: full
grids with `ALL` totals on every dimension, cells from 1 to 9 suppressed (measures emptied), so
the package code is tested on what it will be handed without the measures being computed."""
from __future__ import annotations

import datetime as dt
import itertools
import random

import pandas as pd

from publication.model import ALL, PublishedTable, VintageMeta

UNITS = ("CIEG", "DMEG", "SIEG", "UNATTRIBUTED")
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


def measures_table(seed: int = 7) -> PublishedTable:
    """The statutory measures by program and quarter (counts and the 30-day rate)."""
    rng = random.Random(seed)
    rows = []
    for unit, quarter in itertools.product((*UNITS, ALL), (*QUARTERS, ALL)):
        encounters = rng.choice([0, 5, 14, 30, 52])
        matured = encounters if quarter != "2026-Q3" else encounters // 2
        engaged = rng.randint(0, matured)
        small = 1 <= matured <= 9
        rate = (None if matured == 0 or small
                else float(f"{100 * engaged / matured + 1e-9:.1f}"))
        hidden = 1 <= encounters <= 9
        rows.append({"approving_unit_code": unit, "referral_quarter": quarter,
                     "participants": None if hidden else max(encounters - 2, 0),
                     "encounters_with_treatment_referral": None if hidden else encounters,
                     "matured_30_days": None if hidden or small else matured,
                     "engaged_30_days": None if hidden or small else engaged,
                     "engagement_rate_30_days": None if hidden else rate,
                     "suppressed": hidden})
    frame = pd.DataFrame(rows)
    for c in ("participants", "encounters_with_treatment_referral", "matured_30_days",
              "engaged_30_days"):
        frame[c] = frame[c].astype("Int64")
    return PublishedTable(
        "statutory_measures", "Statutory measures by program and quarter",
        ("approving_unit_code", "referral_quarter"),
        ("participants", "encounters_with_treatment_referral", "matured_30_days",
         "engaged_30_days", "engagement_rate_30_days"), frame, 0.2)


def vintage_tables() -> list[PublishedTable]:
    return [
        count_table("deflections_by_program", "Deflections by program and quarter",
                    {"origin": ("ISP",), "approving_unit_code": UNITS,
                     "referral_quarter": QUARTERS}, seed=1),
        count_table("deflections_by_time_to_engagement",
                    "Deflections by days from encounter to treatment engagement",
                    {"approving_unit_code": UNITS, "referral_quarter": QUARTERS,
                     "time_to_engagement": BUCKETS}, seed=2),
        measures_table(),
    ]
