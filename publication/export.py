"""The exported package of a vintage (publication.md §4): the files a statistician hands out.

    <out_dir>/<period>/<vintage_id>/
        <table>.csv, <table>.parquet   one of each per published table, the same cells
        datapackage.json               Frictionless Data Package: a Table Schema per file
                                       (types and descriptions from publication.fields), the
                                       suppression rule, the vintage's as-of date and protection
                                       width, each table's information loss
        index.html                     the offline summary a program manager reads
                                       (publication.summary)

Only published cells leave: a table's columns are its dimensions, its measures, `suppressed` and
(for a table of several measures) `suppressed_measures`, each described in publication.fields,
and a suppressed measure must be empty. Anything else is refused before a byte is written.

A vintage never changes (§3): the folder is written under a temporary name beside its final
place and renamed into it, so a reader sees the whole package or nothing. A vintage whose folder
exists is never written again: the same files again are a no-op, other files are refused.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.landing import fsync
from publication import fields, summary
from publication.cells import SUPPRESSED_MEASURES, hidden_measures, missing
from publication.model import PublishedTable, VintageMeta

DATAPACKAGE = "datapackage.json"
SUMMARY = "index.html"
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
          "boolean": pa.bool_()}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class VintageExists(FileExistsError):
    """A vintage's folder is already written: vintages are immutable."""


def package_dir(out_dir: Path, meta: VintageMeta) -> Path:
    return Path(out_dir) / meta.period / meta.vintage_id


def write_package(out_dir: Path, meta: VintageMeta, tables: list[PublishedTable]) -> Path:
    """Write the vintage's package; its folder `<out_dir>/<period>/<vintage_id>/`.

    Writing the same vintage again with the same tables changes nothing and returns the folder
    (publishing an unchanged quarter again reuses its vintage); other content for a vintage
    already written is refused with VintageExists."""
    final = package_dir(out_dir, meta)
    columns = {t.name: check_table(t) for t in tables}
    if len(columns) != len(tables):
        raise ValueError("two published tables have the same name")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{meta.vintage_id}.", suffix=".partial",
                                 dir=final.parent))
    try:
        for table in tables:
            _write_csv(work / f"{table.name}.csv", table, columns[table.name])
            _write_parquet(work / f"{table.name}.parquet", table, columns[table.name])
        descriptor = datapackage(meta, tables)
        (work / DATAPACKAGE).write_text(
            json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (work / SUMMARY).write_text(summary.render(meta, tables), encoding="utf-8")
        if final.exists():
            if _same_files(work, final):
                shutil.rmtree(work)
                return final
            raise VintageExists(f"vintage {meta.vintage_id} is already exported, with other "
                                f"content: {final}")
        for path in work.iterdir():
            fsync(path)
        os.chmod(work, 0o755)  # mkdtemp makes it private; the package is for reading
        os.rename(work, final)
        fsync(final.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def _same_files(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    if names != sorted(p.name for p in b.iterdir()):
        return False
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def check_table(table: PublishedTable) -> list[str]:
    """The columns to export, in order; refuses a table that is not all published cells."""
    if not _NAME.match(table.name):
        raise ValueError(f"table name {table.name!r}: lowercase letters, digits and _ only")
    wanted = [*table.dimensions, *table.measures, "suppressed"]
    if SUPPRESSED_MEASURES in table.frame.columns:
        wanted.append(SUPPRESSED_MEASURES)
    if len(set(wanted)) != len(wanted):
        raise ValueError(f"{table.name}: a column is both a dimension and a measure")
    extra = set(table.frame.columns) - set(wanted)
    if extra:
        # Anything beyond the cells (an identifier, a key, a date) could be row-level data.
        raise ValueError(f"{table.name}: columns that are not published cells: {sorted(extra)}")
    absent = set(wanted) - set(table.frame.columns)
    if absent:
        raise ValueError(f"{table.name}: columns missing: {sorted(absent)}")
    for name in wanted:
        fields.field(name)  # every column described, or refused with the reason
    frame = table.frame
    if frame["suppressed"].isna().any():
        raise ValueError(f"{table.name}: `suppressed` must be true or false on every row")
    hidden = hidden_measures(table)
    for flag, measures in zip(frame["suppressed"], hidden, strict=True):
        if bool(flag) != bool(measures) or not measures <= set(table.measures):
            raise ValueError(f"{table.name}: `suppressed` and the suppressed measures disagree")
    for measure in table.measures:
        leaked = sum(1 for value, h in zip(frame[measure], hidden, strict=True)
                     if measure in h and not missing(value))
        if leaked:
            raise ValueError(
                f"{table.name}: {leaked} suppressed cell(s) carry a {measure} value")
    if frame.duplicated(list(table.dimensions)).any():
        raise ValueError(f"{table.name}: two rows for the same cell")
    return wanted


def _value(value, kind: str):
    """A cell as Python: None when missing, else of the field's type."""
    if missing(value):
        return None
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        return bool(value)
    return str(value)


def _csv_text(value, kind: str) -> str:
    # Table Schema's defaults: booleans `true`/`false`, numbers in plain decimal, empty = missing.
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return repr(value) if not value.is_integer() else f"{value:.1f}"
    return str(value)


def _rows(table: PublishedTable, columns: list[str]):
    kinds = [fields.field(c).type for c in columns]
    for record in table.frame[columns].itertuples(index=False, name=None):
        yield [_value(v, k) for v, k in zip(record, kinds, strict=True)]


def _write_csv(path: Path, table: PublishedTable, columns: list[str]) -> None:
    kinds = [fields.field(c).type for c in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in _rows(table, columns):
        writer.writerow([_csv_text(v, k) for v, k in zip(row, kinds, strict=True)])
    path.write_text(out.getvalue(), encoding="utf-8")


def _write_parquet(path: Path, table: PublishedTable, columns: list[str]) -> None:
    schema = pa.schema([pa.field(c, _ARROW[fields.field(c).type], nullable=True,
                                 metadata={"description": fields.field(c).description})
                        for c in columns])
    rows = list(_rows(table, columns))
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    pq.write_table(pa.Table.from_pydict(data, schema=schema), path)




def _schema(table: PublishedTable) -> dict:
    return {
        "fields": [{"name": f.name, "type": f.type, "description": f.description}
                   for f in (fields.field(c) for c in check_table(table))],
        "missingValues": [""],
        "primaryKey": list(table.dimensions),
    }


def datapackage(meta: VintageMeta, tables: list[PublishedTable]) -> dict:
    """The Frictionless Data Package descriptor of the vintage (tabular-data-package profile)."""
    resources = []
    for table in tables:
        common = {
            "profile": "tabular-data-resource",
            "title": table.title,
            "description": (
                f"{table.title}. Every combination of {', '.join(table.dimensions)} appears, zero "
                f"cells included; `ALL` marks a total. Information loss: "
                f"{table.information_loss:.1%} of non-zero cells suppressed."),
            "encoding": "utf-8",
            "schema": _schema(table),
            "information_loss": round(float(table.information_loss), 4),
        }
        resources.append({"name": table.name, "path": f"{table.name}.csv", "format": "csv",
                          "mediatype": "text/csv",
                          "dialect": {"delimiter": ",", "header": True}, **common})
        resources.append({"name": f"{table.name}-parquet", "path": f"{table.name}.parquet",
                          "format": "parquet", "mediatype": PARQUET_MEDIATYPE, **common})
    published = meta.published_at
    published = (published.replace(tzinfo=dt.UTC) if published.tzinfo is None
                 else published.astimezone(dt.UTC))
    return {
        "profile": "tabular-data-package",
        "name": "deflect-" + re.sub(r"[^a-z0-9._-]", "-", meta.vintage_id.lower()),
        "id": meta.vintage_id,
        "version": meta.vintage_id,
        "title": f"Criminal deflections, {meta.period}, as of {meta.as_of.isoformat()}",
        "description": (
            "Criminal deflection statistics of the Illinois State Police deflection programs "
            "(directive III.E.3; 50 ILCS 71/25), by program (approving unit) and referral "
            "quarter. Aggregates only: no row-level data. index.html summarises the tables."),
        "created": published.isoformat().replace("+00:00", "Z"),
        "vintage": {"vintage_id": meta.vintage_id, "period": meta.period,
                    "as_of": meta.as_of.isoformat(), "published_at": published.isoformat(),
                    "run_id": meta.run_id, "protection_width": meta.protection_width},
        "suppression": {"rule": fields.SUPPRESSION_RULE,
                        "protection_width": meta.protection_width,
                        "as_of": meta.as_of.isoformat()},
        "resources": resources,
    }
