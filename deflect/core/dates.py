"""Dates as the rules read them (deflection-rules.md: America/Chicago local dates).

The one place the project names its time zone: the TraCS adapter, the rules, the generator, the
pipeline and the DAGs take `CHICAGO` from here.
"""
from __future__ import annotations

import argparse
import datetime as dt
from zoneinfo import ZoneInfo

TIME_ZONE = "America/Chicago"
CHICAGO = ZoneInfo(TIME_ZONE)


def today_chicago() -> dt.date:
    return dt.datetime.now(CHICAGO).date()


def chicago_date(instant: str) -> dt.date:
    """The America/Chicago date of an xs:dateTime with offset (TraCS instants)."""
    value = dt.datetime.fromisoformat(instant)
    if value.tzinfo is None:  # the schema requires an offset; be explicit if one is missing
        value = value.replace(tzinfo=CHICAGO)
    return value.astimezone(CHICAGO).date()


def quarter_of(d: dt.date) -> str:
    """`YYYY-Qn` of a date (the calendar quarter of a referral, III.E.3)."""
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def cli_date(value: str) -> dt.date:
    """An argparse `type=` for YYYY-MM-DD options, with a message that names the value."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
