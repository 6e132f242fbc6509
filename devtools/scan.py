"""Scanning every text column of every warehouse table for given strings: the PII-leak check (no
name or birth date of the generator's people.json may appear anywhere).

Matching is by whole words, case-insensitive (Unicode case folding): a needle matches a value
when its words appear consecutively in the value's words, words being split at anything but
letters and digits. So the first name "Eva" matches "EVA SMITH" but not "evaluation", and
"Anna-Lena" matches "anna lena". Values are read column by column (distinct values only): meant
for test-sized warehouses, not production scans.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from warehouse.backend import Warehouse, quote_ident

WAREHOUSE_SCHEMAS = ("staging", "marts", "meta", "quality", "reporting")
_TEXT_TYPES = ("text", "varchar", "character varying", "character")
_SPLIT = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Hit:
    schema: str
    table: str
    column: str
    needle_index: int  # position in the list scanned for; the value itself is never reported


def words(text: str) -> str:
    """' a b c ': the case-folded words of `text`, space-separated and padded."""
    return " " + " ".join(w for w in _SPLIT.split(text.casefold()) if w) + " "


def text_columns(wh: Warehouse, schemas=WAREHOUSE_SCHEMAS) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every text column of every table and view in `schemas`."""
    marks = ", ".join("?" for _ in schemas)
    rows = wh.query(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema IN ({marks}) ORDER BY table_schema, table_name, ordinal_position",
        list(schemas),
    )
    return [(s, t, c) for s, t, c, d in rows if d.lower() in _TEXT_TYPES]


def find_strings(wh: Warehouse, needles: list[str], schemas=WAREHOUSE_SCHEMAS) -> list[Hit]:
    """Every (column, needle) where a value of the column contains the needle's words."""
    single: dict[str, list[int]] = {}
    multi: list[tuple[str, int]] = []
    for i, needle in enumerate(needles):
        w = words(needle or "")
        if w.strip() == "":
            continue
        if w.count(" ") == 2:
            single.setdefault(w.strip(), []).append(i)
        else:
            multi.append((w, i))
    if not single and not multi:
        return []
    hits = []
    for schema, table, column in text_columns(wh, schemas):
        col = quote_ident(column)
        found: set[int] = set()
        for (value,) in wh.query(
            f"SELECT DISTINCT {col} FROM {schema}.{table} WHERE {col} IS NOT NULL"
        ):
            w = words(value)
            for token in set(w.split()) & single.keys():
                found.update(single[token])
            found.update(i for needle, i in multi if needle in w)
        hits += [Hit(schema, table, column, i) for i in sorted(found)]
    return hits
