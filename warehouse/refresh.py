"""Refreshing the marts (and so the `reporting` views) from the current staged versions.

The rules are not the warehouse's: the caller passes them as `build` (the pipeline passes
transforms.build_marts). This module reads the current rows, hands them and the unit reference
to `build`, and replaces the marts tables with its result in one transaction. Dimensions come
from the reference CSV (with history), the shared vocabulary and the source codes the caller
passes. W-flag findings are history: one row per (deflection_id, code) the first time it
applies, never deleted.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from deflect.core import vocab
from deflect.core.dates import quarter_of
from deflect.core.units import UnitPeriod, load_units
from warehouse.backend import Warehouse, WarehouseError
from warehouse.current import current_rows
from warehouse.load import column_types

REPORTING_DEFLECTION = (
    "deflection_id", "person_key", "referral_date", "referral_quarter", "pathway",
    "approving_unit_code", "originating_agency_type", "county_fips", "sources", "sex", "race",
    "ethnicity", "age_at_referral", "first_evaluation_date", "evaluated_within_90_days",
    "outcome", "prosecutor_submission_date", "flags",
)
FLAG_COLUMNS = ("deflection_id", "code", "source", "file_name", "record_id", "line", "message")
# marts table <- attribute of transforms' Marts
MART_TABLES = {
    "fct_deflection": "deflection",
    "deflection_counts": "deflection_counts",
    "followup_compliance": "followup_compliance",
    "fct_evaluation": "evaluation",
}
EVALUATION_COLUMNS = ("deflection_id", "evaluation_date", "result", "before_referral")


@dataclass
class RefreshResult:
    run_id: str
    as_of: dt.date
    deflections: int
    flags_added: int


def unit_frames(periods: list[UnitPeriod]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """dim_unit (one row per reference row) and dim_unit_county (one row per county of it)."""
    units = pd.DataFrame(
        [
            (p.unit_code, p.unit_name, p.unit_type, ";".join(p.counties) or None, p.valid_from,
             p.valid_to, p.note or None)
            for p in periods
        ],
        columns=["unit_code", "unit_name", "unit_type", "county_fips", "valid_from", "valid_to",
                 "note"],
        dtype=object,
    )
    counties = pd.DataFrame(
        [(p.unit_code, p.valid_from, p.valid_to, c) for p in periods for c in p.counties],
        columns=["unit_code", "valid_from", "valid_to", "county_fips"],
        dtype=object,
    )
    return units, counties


def pathway_frame(source_codes: dict[str, dict[str, str]]) -> pd.DataFrame:
    """dim_pathway: each pathway, its directive section, and per source kind the code that
    means it (`source_codes`: kind -> {source code: pathway}; column `<kind>_code`)."""
    rows = []
    for i, p in enumerate(vocab.PATHWAYS):
        row = {"pathway": p, "directive_section": vocab.PATHWAY_SECTIONS[p], "sort_order": i + 1}
        for kind, codes in source_codes.items():
            row[f"{kind}_code"] = next((c for c, v in codes.items() if v == p), None)
        rows.append(row)
    return pd.DataFrame(rows, dtype=object)


def date_frame(first: dt.date, last: dt.date) -> pd.DataFrame:
    """Every day of the calendar years from `first` to `last`."""
    start, end = dt.date(first.year, 1, 1), dt.date(last.year, 12, 31)
    days = [start + dt.timedelta(n) for n in range((end - start).days + 1)]
    return pd.DataFrame(
        [(d, d.year, (d.month - 1) // 3 + 1, quarter_of(d), d.month, d.isoweekday())
         for d in days],
        columns=["date_day", "year", "quarter", "year_quarter", "month", "iso_day_of_week"],
        dtype=object,
    )


def _replace(wh: Warehouse, table: str, frame: pd.DataFrame) -> int:
    """Replace every row of marts.`table` by the frame's columns that the table has."""
    types = column_types(wh, "marts", table)
    columns = [c for c in types if c in frame.columns]
    wh.execute(f"DELETE FROM marts.{table}")
    return wh.insert_frame(f"marts.{table}", frame, columns)


def _record_flags(wh: Warehouse, run_id: str, flags: pd.DataFrame) -> int:
    """Insert W-flag findings whose (deflection_id, code) was never recorded before."""
    if flags is None or not len(flags):
        return 0
    missing = [c for c in FLAG_COLUMNS if c not in flags.columns]
    if missing:
        raise WarehouseError(f"deflection_flag lacks columns {missing}")
    wh.execute("DROP TABLE IF EXISTS new_flag")
    wh.execute(
        "CREATE TEMP TABLE new_flag (deflection_id text, code text, source text, file_name text, "
        "record_id text, line integer, message text)"
    )
    wh.insert_frame("new_flag", flags, FLAG_COLUMNS)
    added = wh.execute(
        """INSERT INTO meta.finding (run_id, source, file_name, record_id, deflection_id, code,
                                      level, line, message)
        SELECT ?, source, file_name, record_id, deflection_id, code, 'deflection', line, message
        FROM (SELECT n.*, ROW_NUMBER() OVER (PARTITION BY n.deflection_id, n.code
                                             ORDER BY n.source, n.record_id) AS rn
              FROM new_flag n) f
        WHERE f.rn = 1 AND NOT EXISTS (SELECT 1 FROM meta.finding g
            WHERE g.level = 'deflection' AND g.deflection_id = f.deflection_id
              AND g.code = f.code)""",
        [run_id],
    )
    wh.execute("DROP TABLE new_flag")
    return added


def _check_marts(marts) -> None:
    frame = getattr(marts, "deflection", None)
    if frame is None:
        raise WarehouseError("build_marts returned no deflection frame")
    missing = [c for c in REPORTING_DEFLECTION if c not in frame.columns]
    if missing:
        raise WarehouseError(f"marts.deflection lacks reporting columns {missing}")


def refresh(
    wh: Warehouse,
    *,
    run_id: str,
    as_of: dt.date,
    kinds,
    build: Callable,
    units_path: str | Path | None = None,
    pathway_codes: dict[str, dict[str, str]] | None = None,
    records_with_rows_in=(),
) -> RefreshResult:
    """Rebuild the marts over everything staged, as of `as_of`, in one transaction.

    `kinds`: the `SourceTables` of every source kind; `build(current, units, as_of) -> Marts`
    gets the current rows (staging table name -> frame) and gives every mart;
    `pathway_codes`: kind -> {source code: pathway}, for dim_pathway;
    `records_with_rows_in`: the child tables a record must have a current row in for `build`
    to look at it (current_rows): the others are not read."""
    units = load_units(units_path)
    with wh.transaction():
        current = current_rows(wh, kinds, records_with_rows_in=records_with_rows_in)
        marts = build(current, units, as_of)
        _check_marts(marts)
        deflections = marts.deflection
        unit_rows, unit_counties = unit_frames(units)
        _replace(wh, "dim_unit", unit_rows)
        _replace(wh, "dim_unit_county", unit_counties)
        _replace(wh, "dim_pathway", pathway_frame(pathway_codes or {}))
        referral_days = [d for d in deflections["referral_date"] if d is not None and not pd.isna(d)]
        _replace(wh, "dim_date", date_frame(min([as_of, *referral_days]),
                                            max([as_of, *referral_days])))
        for table, attr in MART_TABLES.items():
            frame = getattr(marts, attr, None)
            if table == "fct_deflection":
                frame = frame.assign(changed_run_id=run_id)
            if frame is None and table == "fct_evaluation":
                frame = pd.DataFrame(columns=EVALUATION_COLUMNS, dtype=object)
            _replace(wh, table, frame)
        added = _record_flags(wh, run_id, getattr(marts, "deflection_flag", None))
        wh.execute("DELETE FROM meta.refresh_state")
        wh.execute("INSERT INTO meta.refresh_state (id, as_of) VALUES (1, ?)", [as_of])
    return RefreshResult(run_id=run_id, as_of=as_of, deflections=len(deflections),
                         flags_added=added)


def last_as_of(wh: Warehouse) -> dt.date | None:
    """The as-of date of the last refresh (what reporting.followup_compliance reflects)."""
    return wh.scalar("SELECT as_of FROM meta.refresh_state WHERE id = 1")
