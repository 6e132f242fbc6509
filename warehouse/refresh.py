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
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from deflect.core import vocab
from deflect.core.dates import quarter_of
from deflect.core.percent import pct_half_up
from deflect.core.units import UnitPeriod, load_units
from warehouse.backend import Warehouse, WarehouseError, quote_ident
from warehouse.current import current_rows
from warehouse.load import column_types

REPORTING_DEFLECTION = (
    "deflection_id", "person_key", "referral_date", "referral_quarter", "pathway",
    "approving_unit_code", "originating_agency_type", "county_fips", "sources", "sex", "race",
    "ethnicity", "age_at_referral", "first_evaluation_date", "evaluated_within_90_days",
    "outcome", "prosecutor_submission_date", "flags",
)
FLAG_COLUMNS = ("deflection_id", "code", "source", "file_name", "record_id", "line", "message")
EVALUATION_COLUMNS = ("deflection_id", "evaluation_date", "result", "before_referral")


@dataclass
class RefreshResult:
    run_id: str
    as_of: dt.date
    deflections: int  # rebuilt: every one in a whole refresh, those in scope otherwise
    flags_added: int
    records_in_scope: int | None = None  # None: a whole refresh
    rows_changed: int = 0  # marts.fct_deflection rows new or changed
    rows_removed: int = 0  # marts.fct_deflection rows gone (their deflection withdrawn)


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


@dataclass(frozen=True)
class RefreshState:
    as_of: dt.date | None
    load_seq: int | None
    context_sha256: str | None


def refresh_state(wh: Warehouse) -> RefreshState:
    row = wh.query_one("SELECT as_of, load_seq, context_sha256 FROM meta.refresh_state "
                       "WHERE id = 1")
    return RefreshState(*row) if row else RefreshState(None, None, None)


def refresh_whole_next(wh: Warehouse) -> None:
    """Make the next refresh recompute everything (staging was rewritten, not appended to)."""
    wh.execute("UPDATE meta.refresh_state SET load_seq = NULL")


def _context(units: list[UnitPeriod], pathway_codes, rules_version: str) -> str:
    """What every row depends on besides its records: the rules, the unit reference, the codes."""
    text = repr((rules_version, units, sorted((pathway_codes or {}).items())))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _last_load_seq(wh: Warehouse) -> int | None:
    return wh.scalar("SELECT max(load_seq) FROM meta.load_audit")


def _scope(wh: Warehouse, kinds, depends, state: RefreshState, as_of: dt.date) -> int:
    """Fill temp table refresh_scope (parent, record_id) with the records to recompute: those
    loaded since the last refresh, those of deflections an as-of date moved past one of their
    thresholds, and every record whose current version shares a link key with any version of
    them (so linking over the scope is linking over everything, restricted to it). Returns the
    number of records."""
    wh.execute("DROP TABLE IF EXISTS refresh_seed")
    wh.execute("DROP TABLE IF EXISTS refresh_key")
    wh.execute("DROP TABLE IF EXISTS refresh_scope")
    wh.execute("CREATE TEMP TABLE refresh_seed (parent text, record_id text)")
    wh.execute("CREATE TEMP TABLE refresh_key (link_key text)")
    parents = {spec.parent.name: spec for spec in kinds}
    for parent in parents:
        wh.execute(f"INSERT INTO refresh_seed SELECT DISTINCT '{parent}', record_id "
                   f"FROM staging.{parent} WHERE load_seq > ?", [state.load_seq])
    if as_of > state.as_of:
        since = state.as_of - dt.timedelta(days=depends.as_of_horizon_days)
        for parent, column in depends.member_columns.items():
            if parent not in parents:
                continue
            wh.execute(
                f"""INSERT INTO refresh_seed SELECT DISTINCT '{parent}', d.{column}
                FROM marts.fct_deflection d
                WHERE d.{column} IS NOT NULL AND (
                    (d.referral_date > ? AND d.referral_date <= ?)
                    OR d.deflection_id IN (SELECT e.deflection_id FROM marts.fct_evaluation e
                                           WHERE e.evaluation_date > ?
                                             AND e.evaluation_date <= ?))""",
                [since, as_of, since, as_of])
    for parent, column in depends.link_keys.items():
        if parent not in parents:
            continue
        wh.execute(f"""INSERT INTO refresh_key SELECT DISTINCT s.{column}
            FROM staging.{parent} s JOIN refresh_seed r
              ON r.parent = '{parent}' AND r.record_id = s.record_id
            WHERE s.{column} IS NOT NULL""")
    for parent, column in depends.link_keys.items():
        if parent not in parents:
            continue
        vcol = parents[parent].version_column
        wh.execute(f"""INSERT INTO refresh_seed SELECT '{parent}', p.record_id
            FROM staging.{parent} p
            WHERE p.{column} IN (SELECT link_key FROM refresh_key)
              AND p.{vcol} = (SELECT max(s.{vcol}) FROM staging.{parent} s
                              WHERE s.record_id = p.record_id)""")
    wh.execute("CREATE TEMP TABLE refresh_scope AS SELECT DISTINCT parent, record_id "
               "FROM refresh_seed")
    wh.execute("DROP TABLE refresh_seed")
    wh.execute("DROP TABLE refresh_key")
    return wh.scalar("SELECT count(*) FROM refresh_scope")


def _replace_deflections(wh: Warehouse, run_id: str, deflections: pd.DataFrame,
                         evaluations: pd.DataFrame, old_where: str) -> tuple[int, int]:
    """Replace the marts.fct_deflection rows `old_where` selects (and their evaluations) by
    `deflections` (and `evaluations`). A row equal to the one it replaces keeps its
    changed_run_id; the others get `run_id`. Returns how many rows changed or are new, and how
    many of the replaced rows have no successor (a voided form, a case whose deflection is
    gone): the aggregates must be recomputed for those too."""
    types = column_types(wh, "marts", "fct_deflection")
    columns = [c for c in types if c in deflections.columns or c == "changed_run_id"]
    wh.execute("DROP TABLE IF EXISTS refresh_new")
    wh.execute("CREATE TEMP TABLE refresh_new AS SELECT * FROM marts.fct_deflection WHERE 1 = 0")
    wh.insert_frame("refresh_new", deflections.assign(changed_run_id=run_id), columns)
    same = " AND ".join(f"o.{quote_ident(c)} IS NOT DISTINCT FROM refresh_new.{quote_ident(c)}"
                        for c in columns if c != "changed_run_id")
    wh.execute(f"""UPDATE refresh_new SET changed_run_id = o.changed_run_id
        FROM marts.fct_deflection o WHERE o.deflection_id = refresh_new.deflection_id
          AND {same}""")
    changed = wh.scalar("SELECT count(*) FROM refresh_new WHERE changed_run_id = ?", [run_id])
    removed = wh.scalar(f"""SELECT count(*) FROM marts.fct_deflection o WHERE ({old_where})
        AND NOT EXISTS (SELECT 1 FROM refresh_new n WHERE n.deflection_id = o.deflection_id)""")
    wh.execute(f"""DELETE FROM marts.fct_evaluation WHERE deflection_id IN (
        SELECT deflection_id FROM marts.fct_deflection WHERE {old_where})""")
    wh.execute(f"DELETE FROM marts.fct_deflection WHERE {old_where}")
    names = ", ".join(quote_ident(c) for c in columns)
    wh.execute(f"INSERT INTO marts.fct_deflection ({names}) SELECT {names} FROM refresh_new")
    wh.execute("DROP TABLE refresh_new")
    ev_types = column_types(wh, "marts", "fct_evaluation")
    wh.insert_frame("marts.fct_evaluation", evaluations,
                    [c for c in ev_types if c in evaluations.columns])
    return changed, removed


def _aggregates(wh: Warehouse, as_of: dt.date) -> None:
    """deflection_counts and followup_compliance over every row of marts.fct_deflection, in the
    database, for an incremental refresh (which has built only some deflections): the figures
    transforms.aggregates gives over every deflection (a whole refresh stores those; the two
    are compared in tests/warehouse/test_incremental_refresh.py)."""
    wh.execute("DELETE FROM marts.deflection_counts")
    wh.execute("""INSERT INTO marts.deflection_counts
        (approving_unit_code, referral_quarter, pathway, deflections)
        SELECT approving_unit_code, referral_quarter, pathway, count(*)
        FROM marts.fct_deflection GROUP BY approving_unit_code, referral_quarter, pathway""")
    rows = wh.query(
        """SELECT approving_unit_code, referral_quarter, count(*),
            sum(CASE WHEN first_due_date <= ? THEN 1 ELSE 0 END),
            sum(CASE WHEN first_due_date <= ? AND evaluated_within_90_days THEN 1 ELSE 0 END),
            sum(CASE WHEN overdue THEN 1 ELSE 0 END)
        FROM marts.fct_deflection GROUP BY approving_unit_code, referral_quarter""",
        [as_of, as_of])
    columns = ["approving_unit_code", "referral_quarter", "referrals", "due",
               "evaluated_within_90_days", "overdue", "pct_evaluated_within_90_days"]
    frame = pd.DataFrame(
        [(u, q, int(n), int(d), int(e), int(o), pct_half_up(int(e), int(d)))
         for u, q, n, d, e, o in rows],
        columns=columns, dtype=object)
    wh.execute("DELETE FROM marts.followup_compliance")
    wh.insert_frame("marts.followup_compliance", frame, columns)


def _dimensions(wh: Warehouse, units: list[UnitPeriod], pathway_codes, as_of: dt.date) -> None:
    unit_rows, unit_counties = unit_frames(units)
    _replace(wh, "dim_unit", unit_rows)
    _replace(wh, "dim_unit_county", unit_counties)
    _replace(wh, "dim_pathway", pathway_frame(pathway_codes or {}))
    first, last = wh.query_one(
        "SELECT min(referral_date), max(referral_date) FROM marts.fct_deflection")
    _replace(wh, "dim_date", date_frame(min(as_of, first or as_of), max(as_of, last or as_of)))


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
    depends=None,
    rules_version: str = "",
    whole: bool = False,
) -> RefreshResult:
    """Bring the marts up to date with everything staged, as of `as_of`, in one transaction.

    `kinds`: the `SourceTables` of every source kind; `build(current, units, as_of) -> Marts`
    gets the current rows (staging table name -> frame) and gives every mart;
    `pathway_codes`: kind -> {source code: pathway}, for dim_pathway;
    `records_with_rows_in`: the child tables a record must have a current row in for `build`
    to look at it (current_rows): the others are not read.

    With `depends` (transforms.Dependencies) the refresh is incremental: only the deflections
    of the records in scope (`_scope`) are rebuilt and replaced, the aggregates are recomputed
    in the database. It is whole (every current record rebuilt) the first time, when asked
    (`whole`), when the as-of date goes back, and when the context changed: the rules
    (`rules_version`), the unit reference or the pathway codes. Both give the same marts: the
    rules look at one deflection at a time except through linking and the as-of date, which
    the scope follows (tests/warehouse/test_incremental_refresh.py)."""
    units = load_units(units_path)
    context = _context(units, pathway_codes, rules_version)
    with wh.transaction():
        state = refresh_state(wh)
        last_seq = _last_load_seq(wh)
        incremental = (depends is not None and not whole and state.load_seq is not None
                       and state.as_of is not None and as_of >= state.as_of
                       and state.context_sha256 == context)
        if incremental:
            scope = _scope(wh, kinds, depends, state, as_of)
            current = current_rows(wh, kinds, records_with_rows_in=records_with_rows_in,
                                   only_records_in="refresh_scope")
            members = " OR ".join(
                f"{column} IN (SELECT record_id FROM refresh_scope WHERE parent = '{parent}')"
                for parent, column in depends.member_columns.items())
            old_where = f"({members})"
        else:
            scope = None
            current = current_rows(wh, kinds, records_with_rows_in=records_with_rows_in)
            old_where = "1 = 1"
        marts = build(current, units, as_of)
        _check_marts(marts)
        evaluations = getattr(marts, "evaluation", None)
        if evaluations is None:
            evaluations = pd.DataFrame(columns=EVALUATION_COLUMNS, dtype=object)
        changed = removed = 0
        if scope != 0:
            changed, removed = _replace_deflections(wh, run_id, marts.deflection, evaluations,
                                                    old_where)
        if not incremental:
            # the rules' own aggregates over every deflection they just built
            _replace(wh, "deflection_counts", marts.deflection_counts)
            _replace(wh, "followup_compliance", marts.followup_compliance)
            _dimensions(wh, units, pathway_codes, as_of)
        elif changed or removed or as_of != state.as_of:
            _aggregates(wh, as_of)
            _dimensions(wh, units, pathway_codes, as_of)
        added = _record_flags(wh, run_id, getattr(marts, "deflection_flag", None))
        if incremental:
            wh.execute("DROP TABLE refresh_scope")
        wh.execute("DELETE FROM meta.refresh_state")
        wh.execute("INSERT INTO meta.refresh_state (id, as_of, load_seq, context_sha256) "
                   "VALUES (1, ?, ?, ?)", [as_of, last_seq, context])
    return RefreshResult(run_id=run_id, as_of=as_of, deflections=len(marts.deflection),
                         flags_added=added, records_in_scope=scope, rows_changed=changed,
                         rows_removed=removed)


def last_as_of(wh: Warehouse) -> dt.date | None:
    """The as-of date of the last refresh (what reporting.followup_compliance reflects)."""
    return wh.scalar("SELECT as_of FROM meta.refresh_state WHERE id = 1")
