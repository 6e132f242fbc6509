"""Lineage of a pipeline run, for OpenLineage: which datasets each stage read and wrote, and what
it did to them (files and records loaded and quarantined).

- `process` (one batch): inputs are the batch's source files, namespace `sftp://host:port` (the
  server; a `conn_id` source's from its connection) or `file`, name the remote path; each with the
  standard `inputStatistics` facet (size, one file) and `deflect_file` (its outcome: status,
  SHA-256, records quarantined). Run facet `deflect_batch`: the batch's counts.
- `load`: inputs are every file of the run's batches; outputs the staging tables of the run's
  source kinds and the bookkeeping tables the load writes. Run facet `deflect_load`: the counts
  per source and in total, those of `reporting.load_run` and of the run's summary.
- `refresh`: inputs are every staging table; outputs the marts and the `reporting` views, each
  with `outputStatistics` (its rows after the refresh). Run facet `deflect_refresh`.

Warehouse datasets follow OpenLineage's naming: `postgres://host:port` and `database.schema.table`
(the database in the name, so two warehouses on one server never share a name), or
`duckdb://<absolute path of the file>` and `schema.table` (the file is the database).

Everything here is plain data computed from the run's files under `work_dir/runs/<run_id>/` and
the warehouse: no Airflow. `to_openlineage` turns it into the OpenLineage client's objects, which
the DAGs hand to Airflow's OpenLineage provider (dags/deflect_common.py).
"""
from __future__ import annotations

import csv
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from adapters.registry import staging_tables
from deflect.core.config import Config, SourceConfig
from deflect.core.runs import read_json, run_dir

FILE_FACET = "deflect_file"
BATCH_FACET = "deflect_batch"
LOAD_FACET = "deflect_load"
REFRESH_FACET = "deflect_refresh"
# A custom facet's schema: named, versioned, and described in docs/operations.md (Lineage).
SCHEMA_URL = "urn:deflect:openlineage:facet:{name}:1"

COUNTS = ("files_seen", "files_loaded", "files_pending", "files_quarantined", "files_duplicate",
          "records_loaded", "records_quarantined")
BATCH_COUNTS = ("files_seen", "files_loaded", "files_pending", "files_quarantined",
                "files_duplicate", "records_extracted", "records_quarantined")
# What the load writes besides the staging tables (warehouse.load.load_batches).
LOAD_TABLES = ("meta.file_ledger", "meta.quarantine", "meta.finding", "meta.load_audit",
               "meta.load_run")
# What the refresh replaces (warehouse.refresh), and the views that publish it.
REFRESH_TABLES = ("marts.dim_unit", "marts.dim_unit_county", "marts.dim_pathway", "marts.dim_date",
                  "marts.fct_deflection", "marts.fct_evaluation", "marts.deflection_counts",
                  "marts.followup_compliance",
                  "reporting.deflection", "reporting.deflection_counts",
                  "reporting.followup_compliance")


@dataclass(frozen=True)
class Dataset:
    namespace: str
    name: str
    # facet name -> its fields; standard facets by their OpenLineage names, ours `deflect_*`
    facets: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StageLineage:
    inputs: list[Dataset] = field(default_factory=list)
    outputs: list[Dataset] = field(default_factory=list)
    run_facets: dict = field(default_factory=dict)


def source_namespace(source: SourceConfig, resolve_connection: Callable | None = None) -> str:
    """`sftp://host:port` of the server a source reads (a `conn_id` source's from its
    connection), or `file` for a local directory."""
    if source.scheme == "file":
        return "file"
    if source.conn_id:
        if resolve_connection is None:
            from ingestion.connections import resolve as resolve_connection
        conn = resolve_connection(source.conn_id)
        return f"sftp://{conn.host}:{conn.port}"
    return f"sftp://{source.host}:{source.port}"


def warehouse_namespace(url: str) -> tuple[str, str]:
    """(namespace, prefix of a table's name) of the warehouse at `url`."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "duckdb":
        path = url[len("duckdb://"):]
        return f"duckdb://{Path(path).resolve() if path != ':memory:' else path}", ""
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        parts = urlsplit(url)
        database = parts.path.lstrip("/") or (parts.username or "postgres")
        return f"postgres://{parts.hostname or 'localhost'}:{parts.port or 5432}", f"{database}."
    raise ValueError(f"unsupported warehouse URL scheme {scheme!r}")


def table_dataset(url: str, table: str, facets: dict | None = None) -> Dataset:
    namespace, prefix = warehouse_namespace(url)
    return Dataset(namespace, prefix + table, facets or {})


def _batch_files(batch_dir: Path) -> list[dict]:
    """The files a processed batch handled, with their outcome (its file_ledger.csv)."""
    path = batch_dir / "file_ledger.csv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _file_dataset(source: SourceConfig, namespace: str, row: dict) -> Dataset:
    return Dataset(namespace, posixpath.join(source.path, row["remote_name"]), {
        "inputStatistics": {"size": int(row["size"] or 0), "fileCount": 1},
        FILE_FACET: {"status": row["status"], "sha256": row["sha256"] or None,
                     "records_quarantined": int(row["records_quarantined"] or 0)},
    })


def _files(config: Config, batch_dirs: list[Path], resolve_connection) -> list[Dataset]:
    namespaces: dict[str, str] = {}  # a source's namespace, resolved once
    out = []
    for batch_dir in batch_dirs:
        for row in _batch_files(batch_dir):
            source = config.source(row["source"])
            if source.name not in namespaces:
                namespaces[source.name] = source_namespace(source, resolve_connection)
            out.append(_file_dataset(source, namespaces[source.name], row))
    return out


def process_lineage(config: Config, run_id: str, batch_id: str,
                    resolve_connection: Callable | None = None) -> StageLineage:
    """The source files one `process` task handled, and the batch's counts."""
    batch_dir = run_dir(config, run_id) / "batches" / batch_id
    batch = read_json(batch_dir / "batch.json") if (batch_dir / "batch.json").exists() else {}
    counts = {k: int(batch.get(k) or 0) for k in BATCH_COUNTS}
    return StageLineage(
        inputs=_files(config, [batch_dir], resolve_connection),
        run_facets={BATCH_FACET: {"run_id": run_id, "batch_id": batch_id,
                                  "source": batch.get("source"),
                                  "status": batch.get("status", "failed"), **counts}})


def load_lineage(config: Config, run_id: str,
                 resolve_connection: Callable | None = None) -> StageLineage:
    """What `load` read (every file of the run's batches) and wrote (staging and bookkeeping
    tables), with the run's counts per source (those of its summary)."""
    rdir = run_dir(config, run_id)
    totals = read_json(rdir / "load.json")
    batch_dirs = sorted(p for p in (rdir / "batches").glob("*") if (p / "batch.json").exists()) \
        if (rdir / "batches").exists() else []
    kinds = {config.source(name).kind for name in totals}
    tables = [f"staging.{t.name}" for k in staging_tables() if k.kind in kinds for t in k.tables]
    sources = {name: {**{k: int(t.get(k) or 0) for k in COUNTS}, "status": t["status"]}
               for name, t in sorted(totals.items())}
    return StageLineage(
        inputs=_files(config, batch_dirs, resolve_connection),
        outputs=[table_dataset(config.warehouse, t) for t in [*tables, *LOAD_TABLES]],
        run_facets={LOAD_FACET: {
            "run_id": run_id,
            "totals": {k: sum(s[k] for s in sources.values()) for k in COUNTS},
            "failed_sources": sorted(n for n, s in sources.items() if s["status"] != "ok"),
            "sources": sources}})


def refresh_lineage(config: Config, run_id: str) -> StageLineage:
    """What the reporting refresh read (every staging table) and wrote (marts and `reporting`
    views, with their rows after it)."""
    from warehouse import connect

    info = read_json(run_dir(config, run_id) / "run.json")
    tables = [f"staging.{t.name}" for k in staging_tables() for t in k.tables]
    with connect(config.warehouse, read_only=True) as wh:
        rows = {t: int(wh.scalar(f"SELECT count(*) FROM {t}")) for t in REFRESH_TABLES}
    return StageLineage(
        inputs=[table_dataset(config.warehouse, t) for t in tables],
        outputs=[table_dataset(config.warehouse, t, {"outputStatistics": {"rowCount": n}})
                 for t, n in rows.items()],
        run_facets={REFRESH_FACET: {"run_id": run_id, "as_of": info["as_of"],
                                    "deflections": rows["reporting.deflection"]}})


def to_openlineage(lineage: StageLineage) -> tuple[list, list, dict]:
    """(inputs, outputs, run facets) as OpenLineage client objects (openlineage-python)."""
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import (
        input_statistics_input_dataset,
        output_statistics_output_dataset,
    )

    def facets(dataset: Dataset, standard: dict, base) -> dict:
        out = {}
        for name, fields in dataset.facets.items():
            out[name] = standard[name](**fields) if name in standard else _custom(base, name, fields)
        return out

    from openlineage.client.generated.base import InputDatasetFacet, OutputDatasetFacet, RunFacet

    inputs = [InputDataset(d.namespace, d.name, inputFacets=facets(d, {
        "inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet},
        InputDatasetFacet)) for d in lineage.inputs]
    outputs = [OutputDataset(d.namespace, d.name, outputFacets=facets(d, {
        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet},
        OutputDatasetFacet)) for d in lineage.outputs]
    run = {name: _custom(RunFacet, name, fields) for name, fields in lineage.run_facets.items()}
    return inputs, outputs, run


def _custom(base, name: str, fields: dict):
    """A facet of ours: the base facet class, with our schema URL and the fields."""
    import attr

    cls = attr.make_class(f"{name}_facet", {}, bases=(base,))
    cls._get_schema = staticmethod(lambda: SCHEMA_URL.format(name=name))
    return cls().with_additional_properties(**fields)
