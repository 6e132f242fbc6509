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


# The dates the rules can compute for: pandas keeps days as 64-bit nanoseconds (1677-2262), and
# no deflection predates the directive's programs.
EARLIEST_AS_OF = dt.date(2000, 1, 1)
LATEST_AS_OF = dt.date(2200, 12, 31)
FUTURE_AS_OF_DAYS = 7  # an as-of date further ahead than this is almost surely a typo


class AsOfError(ValueError):
    """An as-of date the pipeline will not compute figures for."""


def check_as_of(as_of: dt.date, today: dt.date | None = None, force: bool = False) -> dt.date:
    """`as_of` if the figures can be computed for it: within EARLIEST_AS_OF..LATEST_AS_OF, and
    not more than FUTURE_AS_OF_DAYS after today (America/Chicago) unless `force`."""
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise AsOfError(f"as-of date {as_of} is outside {EARLIEST_AS_OF} to {LATEST_AS_OF}")
    today = today or today_chicago()
    if not force and as_of > today + dt.timedelta(days=FUTURE_AS_OF_DAYS):
        raise AsOfError(f"as-of date {as_of} is more than {FUTURE_AS_OF_DAYS} days after today "
                        f"({today}); figures as of a future date count evaluations not yet "
                        f"made: pass --force-as-of if that is meant")
    return as_of


def cli_date(value: str) -> dt.date:
    """An argparse `type=` for YYYY-MM-DD options, with a message that names the value."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
