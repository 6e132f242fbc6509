"""`deflect publish` and the reporting DAG's publication step (publication.md §3): freeze a
quarter's (or a year's) tables as of a date into a vintage, then write its package.

When to publish without being asked is `due_periods`: a quarter is published
`statutory_lag_days` after it closes, then again each month (same day of the month as the first
publication, or the month's last day) until the quarter is a year old. It is a plain function of
dates so the schedule is tested without Airflow.
"""
from __future__ import annotations

import calendar
import datetime as dt
import logging
from pathlib import Path

from deflect.core.config import Config
from deflect.core.dates import quarter_of, today_chicago

log = logging.getLogger(__name__)


def quarter_end(quarter: str) -> dt.date:
    year, q = int(quarter[:4]), int(quarter[-1])
    month = 3 * q
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(quarter: str, lag_days: int) -> list[dt.date]:
    """The as-of dates a quarter is published on: close + lag, then monthly, while the quarter
    is at most a year old."""
    closed = quarter_end(quarter)
    first = closed + dt.timedelta(days=lag_days)
    last = add_months(closed, 12)
    out, k = [], 0
    while (day := add_months(first, k)) <= last:
        out.append(day)
        k += 1
    return out


def due_periods(today: dt.date, lag_days: int, published: dict[str, dt.date]) -> list[str]:
    """The quarters to publish today: those whose latest scheduled date on or before today is
    later than their last vintage's as-of date (`published`: quarter -> latest as-of)."""
    due = []
    q = quarter_of(today)
    # every quarter that may still be within a year of closing: the last five
    for _ in range(6):
        year, n = int(q[:4]), int(q[-1])
        q = f"{year - 1}-Q4" if n == 1 else f"{year}-Q{n - 1}"
        if today > add_months(quarter_end(q), 12):
            continue  # a year old: its last vintage stands
        days = [d for d in schedule(q, lag_days) if d <= today]
        if days and (q not in published or published[q] < days[-1]):
            due.append(q)
    return sorted(due)


def default_as_of(config: Config) -> dt.date:
    """The as-of date of the warehouse's last refresh (what its figures are), else today."""
    from warehouse import connect, last_as_of

    with connect(config.warehouse, read_only=True) as wh:
        return last_as_of(wh) or today_chicago()


def _run_id(config: Config) -> str | None:
    from deflect.core.runs import latest_run_id

    try:
        return latest_run_id(config)
    except FileNotFoundError:
        return None


def write_export(config: Config, published) -> Path | None:
    """The vintage's files under publish_dir, when the export writer is installed."""
    try:
        from publication.export import write_package
    except ImportError:
        log.info("publication.export is not available: vintage %s written to the warehouse "
                 "only", published.meta.vintage_id)
        return None
    return write_package(Path(config.publish_dir), published.meta, published.tables)


def publish(config: Config, *, period: str, as_of: dt.date | None = None,
            run_id: str | None = None, now: dt.datetime | None = None) -> dict:
    """One vintage of `period` ('YYYY-Qn' or 'YYYY'); raises ProtectionError when the audit
    fails (nothing is written)."""
    from publication.vintage import publish as publish_vintage
    from warehouse import connect

    as_of = as_of or default_as_of(config)
    run_id = run_id or _run_id(config)
    with connect(config.warehouse) as wh:
        published = publish_vintage(wh, period=period, as_of=as_of, run_id=run_id,
                                    protection_width=config.protection_width, now=now)
    package = write_export(config, published)
    return {
        "vintage_id": published.meta.vintage_id,
        "period": period,
        "as_of": as_of.isoformat(),
        "previous_vintage_id": published.previous_vintage_id,
        "revisions": published.revisions,
        "suppressed_cells": published.vintage.suppressed,
        "rounds": published.vintage.rounds,
        "information_loss": {t.name: round(t.information_loss, 3) for t in published.tables},
        "package": str(package) if package else None,
        "unchanged": published.reused,
    }


def publish_due(config: Config, today: dt.date | None = None, run_id: str | None = None) -> list[dict]:
    """What the reporting DAG does after each refresh: publish every quarter that is due."""
    from warehouse import connect

    today = today or today_chicago()
    with connect(config.warehouse, read_only=True) as wh:
        published = {q: a for q, a in wh.query(
            "SELECT period, max(as_of) FROM meta.publication GROUP BY period")}
        with_data = {q for (q,) in wh.query(
            "SELECT DISTINCT referral_quarter FROM marts.fct_deflection")}
    # a quarter nothing was ever reported for has nothing to publish (a new warehouse)
    return [publish(config, period=q, as_of=today, run_id=run_id)
            for q in due_periods(today, config.statutory_lag_days, published)
            if q in with_data or q in published]


def format_published(result: dict) -> str:
    if result["unchanged"]:
        return (f"vintage {result['vintage_id']} already holds these figures as of "
                f"{result['as_of']}: nothing new published\n  package: {result['package']}")
    lines = [(f"published vintage {result['vintage_id']} ({result['period']}, as of "
             f"{result['as_of']}): {result['suppressed_cells']} cells suppressed")]
    if result["previous_vintage_id"]:
        lines.append(f"  revises {result['previous_vintage_id']}: {result['revisions']} "
                     "published cells changed (reporting.revision)")
    for name, loss in result["information_loss"].items():
        lines.append(f"  {name}: information loss {loss:.3f}")
    lines.append(f"  package: {result['package'] or 'not written (no export writer)'}")
    return "\n".join(lines)


def publish_due_for_run(config: Config, run_id: str) -> list[dict]:
    """publish_due as of a pipeline run's as-of date (what its figures are as of)."""
    from deflect.core.runs import run_info

    as_of = dt.date.fromisoformat(run_info(config, run_id)["as_of"])
    return publish_due(config, today=as_of, run_id=run_id)
