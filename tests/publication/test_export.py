"""The exported package of a vintage: CSV and Parquet per table with the same cells, a
datapackage.json that is a Frictionless Data Package, an offline summary; only published cells,
written whole or not at all, never over an existing vintage."""
from __future__ import annotations

import csv
import dataclasses
import json
import re
import zoneinfo

import jsonschema
import pandas as pd
import pyarrow.parquet as pq
import pytest

from publication import export, fields
from publication.cells import hidden_measures
from publication.export import DATAPACKAGE, SUMMARY, VintageExists, write_package
from tests.publication.tables import META, vintage_tables

# The structure the Frictionless specifications require of a Tabular Data Package
# (specs.frictionlessdata.io: data-package, tabular-data-package, tabular-data-resource,
# table-schema), written out because the profile files are not available offline.
NAME = {"type": "string", "pattern": r"^[a-z0-9._-]+$"}
TABLE_SCHEMA = {
    "type": "object",
    "required": ["fields"],
    "properties": {
        "fields": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "type": {"enum": ["string", "number", "integer", "boolean", "object", "array",
                                  "date", "time", "datetime", "year", "yearmonth", "duration",
                                  "geopoint", "geojson", "any"]},
                "description": {"type": "string"},
                "title": {"type": "string"},
            }}},
        "missingValues": {"type": "array", "items": {"type": "string"}},
        "primaryKey": {"oneOf": [{"type": "string"},
                                 {"type": "array", "items": {"type": "string"}}]},
    },
}
DATA_PACKAGE = {
    "type": "object",
    "required": ["resources", "profile"],
    "properties": {
        "profile": {"const": "tabular-data-package"},
        "name": NAME,
        "id": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "version": {"type": "string"},
        "created": {"type": "string",
                    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"},
        "resources": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "path", "profile", "schema"],
            "properties": {
                "name": NAME,
                "path": {"type": "string", "pattern": r"^[^/\\.][^\\]*$"},  # relative, POSIX
                "profile": {"const": "tabular-data-resource"},
                "format": {"type": "string"},
                "mediatype": {"type": "string", "pattern": r"^[a-z]+/[a-z0-9.+-]+$"},
                "encoding": {"type": "string"},
                "dialect": {"type": "object", "properties": {
                    "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
                    "header": {"type": "boolean"}}},
                "schema": TABLE_SCHEMA,
            }}},
    },
}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    tables = vintage_tables()
    folder = write_package(tmp_path_factory.mktemp("publish"), META, tables)
    return folder, tables


def test_the_package_has_one_csv_and_one_parquet_per_table(package):
    folder, tables = package
    assert folder.parts[-2:] == (META.period, META.vintage_id)
    expected = {DATAPACKAGE, SUMMARY} | {f"{t.name}.{ext}" for t in tables
                                         for ext in ("csv", "parquet")}
    assert {p.name for p in folder.iterdir()} == expected
    # no temporary folder left beside it
    assert [p.name for p in folder.parent.iterdir()] == [META.vintage_id]


def _columns(table):
    extra = ["suppressed_measures"] if "suppressed_measures" in table.frame.columns else []
    return [*table.dimensions, *table.measures, "suppressed", *extra]


def test_csv_and_parquet_hold_the_table_cells_and_nothing_of_suppressed_ones(package):
    folder, tables = package
    checked_hidden = checked_shown = 0
    for table in tables:
        columns = _columns(table)
        with open(folder / f"{table.name}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0] == columns and len(rows) == len(table.frame) + 1
        parquet = pq.read_table(folder / f"{table.name}.parquet")
        assert parquet.column_names == columns
        records = parquet.to_pylist()
        for line, record, hidden, (_, source) in zip(rows[1:], records, hidden_measures(table),
                                                     table.frame.iterrows(), strict=True):
            flag = bool(source["suppressed"])
            assert line[columns.index("suppressed")] == ("true" if flag else "false")
            assert record["suppressed"] is flag and flag == bool(hidden)
            for i, measure in enumerate(table.measures, start=len(table.dimensions)):
                value = source[measure]
                if measure in hidden:
                    checked_hidden += 1
                    assert line[i] == "" and record[measure] is None
                elif pd.isna(value):
                    assert line[i] == "" and record[measure] is None
                else:
                    checked_shown += 1
                    assert float(line[i]) == float(value) == float(record[measure])
            for i, dim in enumerate(table.dimensions):
                assert line[i] == record[dim] == source[dim]
        kinds = {f.name: str(f.type) for f in parquet.schema}
        for measure in table.measures:
            assert kinds[measure] == {"integer": "int64", "number": "double"}[
                fields.FIELDS[measure].type]
        assert kinds["suppressed"] == "bool"
    # the tables hide cells, and a row of the measures table hides some values, not all
    assert checked_hidden > 10 and checked_shown > 50
    measures = tables[-1]
    partly = [h for h in hidden_measures(measures) if h and h != set(measures.measures)]
    assert partly


def test_datapackage_is_a_frictionless_tabular_data_package(package):
    folder, tables = package
    descriptor = json.loads((folder / DATAPACKAGE).read_text(encoding="utf-8"))
    jsonschema.validate(descriptor, DATA_PACKAGE)
    names = [r["name"] for r in descriptor["resources"]]
    assert len(names) == len(set(names)) == 2 * len(tables)
    for resource in descriptor["resources"]:
        assert (folder / resource["path"]).is_file()
        for f in resource["schema"]["fields"]:
            described = fields.FIELDS[f["name"]]
            assert (f["type"], f["description"]) == (described.type, described.description)
    by_path = {r["path"]: r for r in descriptor["resources"]}
    for table in tables:
        for ext in ("csv", "parquet"):
            resource = by_path[f"{table.name}.{ext}"]
            assert [f["name"] for f in resource["schema"]["fields"]] == _columns(table)
            assert resource["schema"]["primaryKey"] == list(table.dimensions)
            assert resource["information_loss"] == round(table.information_loss, 4)
    assert descriptor["suppression"] == {"rule": fields.SUPPRESSION_RULE,
                                         "protection_width": 5, "as_of": "2026-11-14"}
    assert descriptor["vintage"]["vintage_id"] == META.vintage_id
    assert descriptor["created"] == "2026-11-15T07:30:00Z"


def test_a_broken_descriptor_fails_the_validation():
    """The structural check can fail: the validation above means something."""
    bad = {"profile": "tabular-data-package",
           "resources": [{"name": "Bad Name", "path": "x.csv",
                          "profile": "tabular-data-resource", "schema": {"fields": []}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, DATA_PACKAGE)


def test_the_summary_shows_suppressed_cells_as_suppressed_and_loads_nothing(package):
    folder, tables = package
    html = (folder / SUMMARY).read_text(encoding="utf-8")
    assert html.count("<svg") == 2  # the engagement rate, the time to engagement
    hidden = sum(len(h) for t in tables for h in hidden_measures(t))
    assert html.count('<td class="num suppressed" title="suppressed">s</td>') == hidden
    assert "published 2026-11-15 07:30 UTC" in html
    chicago = dataclasses.replace(META, published_at=META.published_at.astimezone(
        zoneinfo.ZoneInfo("America/Chicago")))
    assert "published 2026-11-15 07:30 UTC" in export.summary.render(chicago, tables)
    # no script, no stylesheet or image fetched: the page opens offline
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert not re.search(r'(src|href)="(?!#)', html)


def test_a_vintage_is_never_overwritten(package, tmp_path):
    folder, tables = package
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    out = folder.parent.parent
    changed = [dataclasses.replace(t, title="Something else") for t in tables]
    with pytest.raises(VintageExists):
        write_package(out, META, changed)
    # the same vintage again (an unchanged quarter published again) is a no-op
    assert write_package(out, META, vintage_tables()) == folder
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir()] == [META.vintage_id]


def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export.summary, "render", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_package(tmp_path, META, vintage_tables())
    assert list((tmp_path / META.period).iterdir()) == []
    monkeypatch.undo()
    assert write_package(tmp_path, META, vintage_tables()).is_dir()  # and it can be written


def _with(table, frame):
    return dataclasses.replace(table, frame=frame)


def test_nothing_but_published_cells_is_exported(tmp_path):
    table = vintage_tables()[0]
    frame = table.frame.copy()
    frame["deflection_id"] = "D" + "0" * 24
    with pytest.raises(ValueError, match="not published cells"):
        write_package(tmp_path, META, [_with(table, frame)])
    leak = table.frame.copy()
    leak.loc[leak["suppressed"], "deflections"] = 3
    with pytest.raises(ValueError, match="suppressed cell"):
        write_package(tmp_path, META, [_with(table, leak)])
    undescribed = dataclasses.replace(
        table, measures=("persons",), frame=table.frame.rename(columns={"deflections": "persons"}))
    with pytest.raises(KeyError, match="no description"):
        write_package(tmp_path, META, [undescribed])
    twice = pd.concat([table.frame, table.frame.head(1)])
    with pytest.raises(ValueError, match="same cell"):
        write_package(tmp_path, META, [_with(table, twice)])
    measures = vintage_tables()[-1]
    named = measures.frame.copy()
    row = next(i for i, h in zip(named.index, hidden_measures(measures), strict=True) if h)
    named.loc[row, "suppressed_measures"] = ""
    with pytest.raises(ValueError, match="disagree"):
        write_package(tmp_path, META, [_with(measures, named)])
    hidden_rate = measures.frame.copy()
    row = next(i for i, h in zip(hidden_rate.index, hidden_measures(measures), strict=True)
               if "engagement_rate_30" in h)
    hidden_rate.loc[row, "engagement_rate_30"] = 50.0
    with pytest.raises(ValueError, match="engagement_rate_30 value"):
        write_package(tmp_path, META, [_with(measures, hidden_rate)])
    assert not (tmp_path / META.period).exists() or not any((tmp_path / META.period).iterdir())


def test_the_same_tables_give_the_same_bytes(tmp_path):
    a = write_package(tmp_path / "a", META, vintage_tables())
    b = write_package(tmp_path / "b", META, vintage_tables())
    for path in a.iterdir():
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name
