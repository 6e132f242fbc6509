"""deflect.lineage without Airflow: after a real run on a generated drop (both warehouse
backends), the datasets and facets each stage reports agree with what the warehouse recorded."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import yaml

from deflect import lineage
from deflect.core.config import SourceConfig
from tests.dags.helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    out = tmp_path_factory.mktemp("drop")
    subprocess.run([sys.executable, "-m", "generator.cli", "--out", str(out), "--start",
                    "2026-09-01", "--end", "2026-09-04", "--seed", "3", "--forms-per-day", "20",
                    "--no-progress"], cwd=ROOT, check=True, timeout=300, capture_output=True)
    return out


def _run(tmp_path, drop, warehouse_url):
    from deflect import pipeline
    from deflect.configuration import load_config

    sources = yaml.safe_load((drop / "deflect.yaml").read_text())["sources"]
    for s in sources:  # the generator's relative file: URLs, made absolute for a config elsewhere
        s["url"] = "file://" + str((drop / s["url"].split(":", 1)[1]).resolve())
    if warehouse_url.startswith("duckdb"):  # in the configuration's folder (its relative form)
        warehouse_url = "duckdb:///warehouse.duckdb"
    path = tmp_path / "deflect.yaml"
    path.write_text(yaml.safe_dump({
        "warehouse": warehouse_url, "landing_dir": "landing", "work_dir": "work",
        "report_dir": "reports", "person_key_secret_env": "DEFLECT_PERSON_KEY",
        "sources": sources}))
    config = load_config(path)
    manifest = json.loads((drop / "manifest.json").read_text())
    result = pipeline.run(config, as_of=dt.date.fromisoformat(manifest["as_of"]), publish=False)
    return config, result, manifest


def _warehouse_rows(url: str, sql: str) -> list[dict]:
    from warehouse import connect

    with connect(url, read_only=True) as wh:
        return wh.read_frame(sql).to_dict(orient="records")


def test_stages_report_what_the_warehouse_recorded(tmp_path, drop, warehouse_url):
    config, result, manifest = _run(tmp_path, drop, warehouse_url)
    run_id = result["run_id"]
    namespace, prefix = lineage.warehouse_namespace(config.warehouse)
    if warehouse_url.startswith("duckdb"):
        assert (namespace, prefix) == (f"duckdb://{tmp_path / 'warehouse.duckdb'}", "")
    else:
        database = warehouse_url.rsplit("/", 1)[1]
        assert (namespace, prefix) == ("postgres://127.0.0.1:5432", f"{database}.")

    # load: the files handled, with the outcome the ledger recorded; counts of reporting.load_run
    load = lineage.load_lineage(config, run_id)
    ledger = _warehouse_rows(config.warehouse, "select source, remote_name, status, "
                             f"records_quarantined from meta.file_ledger where run_id = '{run_id}'")
    paths = {s.name: s.path for s in config.sources}
    assert sorted((d.namespace, d.name, d.facets["deflect_file"]["status"]) for d in load.inputs) \
        == sorted(("file", f"{paths[r['source']]}/{r['remote_name']}", r["status"]) for r in ledger)
    statuses = {d.facets["deflect_file"]["status"] for d in load.inputs}
    assert {"loaded", "quarantined"} <= statuses, statuses  # the drop has defects
    facet = load.run_facets["deflect_load"]
    load_run = _warehouse_rows(config.warehouse, "select * from reporting.load_run "
                               f"where run_id = '{run_id}'")
    assert len(load_run) == len(config.sources) == len(facet["sources"])
    for row in load_run:
        got = facet["sources"][row["source"]]
        for key in lineage.COUNTS:
            assert got[key] == int(row[key]), (row["source"], key)
    for key in lineage.COUNTS:
        assert facet["totals"][key] == sum(int(r[key]) for r in load_run)
    assert facet["totals"]["files_quarantined"] == sum(
        1 for d in load.inputs if d.facets["deflect_file"]["status"] == "quarantined")
    assert facet["sources"] == {n: {**{k: s[k] for k in lineage.COUNTS}, "status": s["status"]}
                                for n, s in result["sources"].items()}  # the run's summary
    outputs = {d.name for d in load.outputs}
    assert {prefix + "staging.stg_tracs__field_report", prefix + "staging.stg_meg__case",
            prefix + "meta.quarantine"} <= outputs, outputs
    assert {d.namespace for d in load.outputs} == {namespace}

    # process: one batch's files and counts
    batch_ids = sorted(p.stem for p in (config.work_dir / "runs" / run_id / "batches").glob("*.json"))
    processed = [lineage.process_lineage(config, run_id, b) for b in batch_ids]
    assert sorted(d.name for p in processed for d in p.inputs) == sorted(d.name for d in load.inputs)
    assert sum(p.run_facets["deflect_batch"]["files_quarantined"] for p in processed) \
        == facet["totals"]["files_quarantined"]

    # refresh: every staging table in, marts and reporting views out with their rows
    refresh = lineage.refresh_lineage(config, run_id)
    rows = {d.name: d.facets["outputStatistics"]["rowCount"] for d in refresh.outputs}
    deflections = len(manifest["reporting"]["deflection"])
    assert rows[prefix + "reporting.deflection"] == deflections > 0
    assert refresh.run_facets["deflect_refresh"]["deflections"] == deflections
    assert rows[prefix + "reporting.deflection_counts"] == len(
        manifest["reporting"]["deflection_counts"])
    assert prefix + "staging.stg_tracs__field_report" in {d.name for d in refresh.inputs}


def test_openlineage_objects_serialize_with_our_facets():
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.serde import Serde

    stage = lineage.StageLineage(
        inputs=[lineage.Dataset("sftp://10.0.0.5:22", "/exports/tracs/a.xml", {
            "inputStatistics": {"size": 194, "fileCount": 1},
            "deflect_file": {"status": "quarantined", "sha256": "ab", "records_quarantined": 0}})],
        outputs=[lineage.table_dataset("postgresql://deflect@db:5433/wh", "staging.stg_x",
                                       {"outputStatistics": {"rowCount": 7}})],
        run_facets={"deflect_load": {"totals": {"files_loaded": 3}}})
    inputs, outputs, run_facets = lineage.to_openlineage(stage)
    event = RunEvent(eventType=RunState.RUNNING, eventTime="2026-11-28T00:00:00+00:00",
                     run=Run(runId="01937f4e-0000-7000-8000-000000000000", facets=run_facets),
                     job=Job(namespace="deflect", name="deflect_nightly.load"),
                     inputs=inputs, outputs=outputs, producer="https://example.invalid/deflect")
    data = json.loads(Serde.to_json(event))
    [i] = data["inputs"]
    assert (i["namespace"], i["name"]) == ("sftp://10.0.0.5:22", "/exports/tracs/a.xml")
    assert i["inputFacets"]["inputStatistics"]["size"] == 194
    assert i["inputFacets"]["deflect_file"]["status"] == "quarantined"
    assert i["inputFacets"]["deflect_file"]["_schemaURL"] == \
        "urn:deflect:openlineage:facet:deflect_file:1"
    [o] = data["outputs"]
    assert (o["namespace"], o["name"]) == ("postgres://db:5433", "wh.staging.stg_x")
    assert o["outputFacets"]["outputStatistics"]["rowCount"] == 7
    assert data["run"]["facets"]["deflect_load"]["totals"] == {"files_loaded": 3}


def test_source_namespaces():
    sftp = SourceConfig(name="t", kind="tracs", url="sftp://u@sftp.example:2222/exports/tracs",
                        host_key="ssh-ed25519 AAAA")
    assert lineage.source_namespace(sftp) == "sftp://sftp.example:2222"
    default_port = SourceConfig(name="t", kind="tracs", url="sftp://u@sftp.example/x",
                                host_key="ssh-ed25519 AAAA")
    assert lineage.source_namespace(default_port) == "sftp://sftp.example:22"
    by_conn = SourceConfig(name="t", kind="tracs", url="sftp:///exports/tracs", conn_id="tracs")

    class Conn:
        host, port = "tracs.example", 2200

    asked = []
    assert lineage.source_namespace(by_conn, lambda c: asked.append(c) or Conn) == \
        "sftp://tracs.example:2200"
    assert asked == ["tracs"]
    local = SourceConfig(name="t", kind="tracs", url="file:///srv/drop/tracs")
    assert lineage.source_namespace(local) == "file"
