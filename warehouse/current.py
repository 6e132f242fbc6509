"""Current versions of every record, one DataFrame per staging table.

The current version of a record is its highest staged version (TraCS form_version, MEG
last_modified; quarantined versions never reach staging, so they hide nothing). A record whose
current version is withdrawn (its kind's `withdrawn_status`: TraCS `Voided`, MEG `VOID`) is left
out with its children unless asked for: its deflections stop counting while staging keeps its
history. What the rules make of these rows is not the warehouse's business: the pipeline hands
them to transforms.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from deflect.core.canonical import SourceTables, StagingTable
from warehouse.backend import Warehouse, quote_ident


def current_sql(spec: SourceTables, table: StagingTable, include_withdrawn: bool = False,
                with_rows_in: str | None = None, only_records_in: str | None = None) -> str:
    """SELECT of the canonical columns of `table` for the current version of each record;
    with `with_rows_in` (a child table of the kind), only of records whose current version has
    a row there; with `only_records_in` (a table of (parent, record_id)), only of the records
    it lists for this kind's parent table."""
    parent, vcol = spec.parent.name, spec.version_column
    cols = ", ".join(f"t.{quote_ident(c)}" for c in table.columns)
    withdrawn = ("" if include_withdrawn
                 else f"AND COALESCE(p.status, '') <> '{spec.withdrawn_status}'")
    having = "" if with_rows_in is None else (
        f"AND EXISTS (SELECT 1 FROM staging.{with_rows_in} w "
        f"WHERE w.record_id = p.record_id AND w.{vcol} = p.{vcol})")
    if only_records_in is not None:
        having += (f" AND p.record_id IN (SELECT o.record_id FROM {only_records_in} o "
                   f"WHERE o.parent = '{parent}')")
    order = "t.record_id, t.line" if table.name != parent else "t.record_id"
    return f"""SELECT {cols} FROM staging.{table.name} t
        JOIN staging.{parent} p ON p.record_id = t.record_id AND p.{vcol} = t.{vcol}
        WHERE p.{vcol} = (SELECT max(s.{vcol}) FROM staging.{parent} s
                          WHERE s.record_id = p.record_id) {withdrawn} {having}
        ORDER BY {order}"""


def _naive_text(value):
    # A timestamp version (MEG LastModified) is compared as a timestamp but handed on as written
    # (ISO, no offset).
    return value.isoformat() if isinstance(value, dt.datetime) else value


def current_rows(wh: Warehouse, kinds, *, include_withdrawn: bool = False,
                 records_with_rows_in=(), only_records_in: str | None = None,
                 ) -> dict[str, pd.DataFrame]:
    """Staging table name -> its current rows, for every table of the given `SourceTables`.

    `records_with_rows_in`: child tables; a kind with one of them gives only the records whose
    current version has a row there (the rules look at nothing else: only the records that
    carry a deflection can count, so a year of forms without one is never read);
    `only_records_in`: a table of (parent, record_id) naming the only records to read (the
    incremental refresh's scope)."""
    frames = {}
    for spec in kinds:
        child = next((t.name for t in spec.children if t.name in records_with_rows_in), None)
        for table in spec.tables:
            frame = wh.read_frame(current_sql(spec, table, include_withdrawn, child,
                                             only_records_in))
            vcol = spec.version_column
            if spec.version_type == "timestamp" and len(frame):
                frame[vcol] = frame[vcol].map(_naive_text).astype(object)
            frames[table.name] = frame.reset_index(drop=True)
    return frames
