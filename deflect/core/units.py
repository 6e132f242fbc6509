"""The MEG / task force unit reference (reference-units.csv), with validity dates and counties.

A unit may have several rows: its counties change over time. Validity dates are inclusive; an empty
`valid_to` means still valid.
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class UnitPeriod:
    unit_code: str
    unit_name: str
    unit_type: str
    counties: tuple[str, ...]  # 5-digit FIPS; empty when the reference lists none
    valid_from: dt.date
    valid_to: dt.date | None
    note: str

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def default_reference_path() -> Path:
    return Path(str(resources.files("deflect.core") / "data" / "reference-units.csv"))


def load_units(path: str | Path | None = None) -> list[UnitPeriod]:
    path = Path(path) if path else default_reference_path()
    periods = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            counties = tuple(c for c in (row["county_fips"] or "").split(";") if c)
            periods.append(
                UnitPeriod(
                    unit_code=row["unit_code"],
                    unit_name=row["unit_name"],
                    unit_type=row["unit_type"],
                    counties=counties,
                    valid_from=dt.date.fromisoformat(row["valid_from"]),
                    valid_to=dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
                    note=row.get("note") or "",
                )
            )
    return periods


def unit_codes(periods: list[UnitPeriod]) -> list[str]:
    return sorted({p.unit_code for p in periods})


class UnitReference:
    """The reference, looked up by unit and day. Cached: the same (unit, day) pairs recur across
    thousands of deflections."""

    def __init__(self, periods: list[UnitPeriod]):
        self.periods = list(periods)
        self._by_unit: dict[str, list[UnitPeriod]] = {}
        for p in self.periods:
            self._by_unit.setdefault(p.unit_code, []).append(p)
        self.period_on = lru_cache(maxsize=None)(self._period_on)

    def _period_on(self, unit_code: str, day: dt.date) -> UnitPeriod | None:
        """The reference row of `unit_code` valid on `day`, or None (unknown or not valid)."""
        for p in self._by_unit.get(unit_code, ()):
            if p.valid_on(day):
                return p
        return None
