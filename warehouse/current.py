"""Current versions of every record, as DataFrames for transforms.build_marts.

The current version of a TraCS form is its highest staged form_version, of a MEG case its newest
staged last_modified (quarantined versions never reach staging, so they hide nothing). A record
whose current version is withdrawn (TraCS `Voided`, MEG `VOID`) is left out with its children
unless asked for: its deflections stop counting while staging keeps its history.
"""
from __future__ import annotations

import datetime as dt

from ingestion.canonical import TABLES
from transforms.current import CurrentRows  # the one contract between warehouse and rules
from warehouse.backend import Warehouse, quote_ident

WITHDRAWN = {"stg_tracs__field_report": "Voided", "stg_meg__case": "VOID"}


_SPEC = {
    # attribute: (staging table, parent table, version column)
    "tracs_field_report": ("stg_tracs__field_report", "stg_tracs__field_report", "form_version"),
    "tracs_individual": ("stg_tracs__individual", "stg_tracs__field_report", "form_version"),
    "tracs_deflection": ("stg_tracs__deflection", "stg_tracs__field_report", "form_version"),
    "tracs_evidence_item": ("stg_tracs__evidence_item", "stg_tracs__field_report", "form_version"),
    "meg_case": ("stg_meg__case", "stg_meg__case", "last_modified"),
    "meg_subject": ("stg_meg__subject", "stg_meg__case", "last_modified"),
    "meg_deflection": ("stg_meg__deflection", "stg_meg__case", "last_modified"),
    "meg_evaluation": ("stg_meg__evaluation", "stg_meg__case", "last_modified"),
}


def current_sql(table: str, parent: str, vcol: str, include_withdrawn: bool = False) -> str:
    """SELECT of the canonical columns of `table` for the current version of each record."""
    cols = ", ".join(f"t.{quote_ident(c)}" for c in TABLES[table])
    withdrawn = "" if include_withdrawn else f"AND COALESCE(p.status, '') <> '{WITHDRAWN[parent]}'"
    order = "t.record_id, t.line" if table != parent else "t.record_id"
    return f"""SELECT {cols} FROM staging.{table} t
        JOIN staging.{parent} p ON p.record_id = t.record_id AND p.{vcol} = t.{vcol}
        WHERE p.{vcol} = (SELECT max(s.{vcol}) FROM staging.{parent} s
                          WHERE s.record_id = p.record_id) {withdrawn}
        ORDER BY {order}"""


def _naive_text(value):
    # MEG LastModified is compared as a timestamp but handed on as written (ISO, no offset).
    return value.isoformat() if isinstance(value, dt.datetime) else value


def current_rows(wh: Warehouse, *, include_withdrawn: bool = False) -> CurrentRows:
    frames = {}
    for attr, (table, parent, vcol) in _SPEC.items():
        frame = wh.read_frame(current_sql(table, parent, vcol, include_withdrawn))
        if vcol == "last_modified" and len(frame):
            frame["last_modified"] = frame["last_modified"].map(_naive_text).astype(object)
        frames[attr] = frame.reset_index(drop=True)
    return CurrentRows(**frames)
