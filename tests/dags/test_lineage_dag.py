"""OpenLineage events of the real DAGs, run by Airflow (`airflow dags test`) with the provider's
file transport configured through the environment (AIRFLOW__OPENLINEAGE__TRANSPORT), the drop
over SFTP from a loopback sshd, a PostgreSQL warehouse: START and COMPLETE for every task, the
source files as inputs (`sftp://host:port`, the remote path), the staging and reporting tables as
outputs, and facet counts equal to the run's summary."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import pytest

from devtools import local_sftp
from tests.dags.helpers import airflow, airflow_env, tail
from tests.dags.test_nightly_dag import dags_test, generate, write_config

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.sshd, pytest.mark.postgres]


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def by_task(events: list[dict], dag_id: str) -> dict:
    """(task id, OpenLineage run id) -> the events of that task run (a mapped instance is a run
    of its own), in order; the DAG run's own events left out."""
    out = defaultdict(list)
    for e in events:
        job = e["job"]["name"]
        if job.startswith(dag_id + "."):
            out[(job[len(dag_id) + 1:], e["run"]["runId"])].append(e)
    return out


def running(runs: dict, task_id: str) -> list[dict]:
    """The RUNNING events (ours, with the datasets) of every run of a task."""
    return [e for (t, _), evs in runs.items() if t == task_id for e in evs
            if e["eventType"] == "RUNNING"]


def test_lineage_events_of_the_nightly_and_reporting_dags(tmp_path, pg_url):
    drop = tmp_path / "drop"
    manifest = generate(drop)
    events_file = tmp_path / "lineage" / "events.jsonl"
    events_file.parent.mkdir()
    env = airflow_env(tmp_path / "airflow", AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
        {"type": "file", "log_file_path": str(events_file), "append": True}),
        AIRFLOW__OPENLINEAGE__NAMESPACE="deflect-test")
    proc = airflow(["db", "migrate"], env)
    assert proc.returncode == 0, tail(proc)
    with local_sftp.serve(drop) as server:
        sources = local_sftp.sftp_sources(drop / "deflect.yaml", server)
        config = write_config(tmp_path / "deflect.yaml", pg_url, sources)
        env["DEFLECT_CONFIG"] = str(config)
        dags_test("deflect_nightly", env, {"as_of": manifest["as_of"]})
        dags_test("deflect_reporting", env, {})
    events = read_events(events_file)
    text = events_file.read_text()
    assert env["DEFLECT_PERSON_KEY"] not in text and "PRIVATE KEY" not in text  # no secret sent
    [run_dir] = (tmp_path / "work" / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    namespace = f"sftp://{server.host}:{server.port}"
    served = {s["name"]: urlparse(s["url"]).path for s in sources}

    nightly = by_task(events, "deflect_nightly")
    tasks = {t for t, _ in nightly}
    assert {"begin", "sources", "plan", "batches", "process", "load", "summary"} <= tasks, tasks
    for key, evs in nightly.items():
        types = [e["eventType"] for e in evs]
        assert types[0] == "START" and types[-1] == "COMPLETE", (key, types)
        assert all(e["job"]["namespace"] == "deflect-test" for e in evs)
    assert len([k for k in nightly if k[0] == "plan"]) == len(sources)

    # load: every file of the run as an input, the staging tables as outputs, the summary's counts
    [load] = running(nightly, "load")
    facet = load["run"]["facets"]["deflect_load"]
    assert facet["run_id"] == summary["run_id"]
    for name, s in summary["sources"].items():
        for key in ("files_seen", "files_loaded", "files_quarantined", "files_duplicate",
                    "files_pending", "records_loaded", "records_quarantined"):
            assert facet["sources"][name][key] == s[key], (name, key)
    assert facet["totals"]["files_quarantined"] > 0 and facet["totals"]["records_loaded"] > 0
    inputs = load["inputs"]
    assert {i["namespace"] for i in inputs} == {namespace}
    for name, s in summary["sources"].items():
        mine = [i for i in inputs if i["name"].startswith(served[name] + "/")]
        statuses = [i["inputFacets"]["deflect_file"]["status"] for i in mine]
        assert statuses.count("loaded") == s["files_loaded"], name
        assert statuses.count("quarantined") == s["files_quarantined"], name
    database = pg_url.rsplit("/", 1)[1]
    outputs = {(o["namespace"], o["name"]) for o in load["outputs"]}
    for table in ("staging.stg_tracs__field_report", "staging.stg_meg__deflection",
                  "meta.quarantine"):
        assert ("postgres://127.0.0.1:5432", f"{database}.{table}") in outputs, outputs

    # process: each mapped instance's own files, together every file the load read
    processed = running(nightly, "process")
    assert len(processed) == len([k for k in nightly if k[0] == "process"]) > 0
    assert sorted(i["name"] for e in processed for i in e["inputs"]) == \
        sorted(i["name"] for i in inputs)
    assert sum(e["run"]["facets"]["deflect_batch"]["files_quarantined"] for e in processed) == \
        facet["totals"]["files_quarantined"]

    # reporting: the staging tables in, the reporting views out with their rows
    reporting = by_task(events, "deflect_reporting")
    for key, evs in reporting.items():
        types = [e["eventType"] for e in evs]
        assert types[0] == "START" and types[-1] == "COMPLETE", (key, types)
    [refresh] = running(reporting, "refresh")
    rows = {o["name"]: o["outputFacets"]["outputStatistics"]["rowCount"]
            for o in refresh["outputs"]}
    deflections = sum(int(r["deflections"]) for r in summary["deflection_counts"])
    assert rows[f"{database}.reporting.deflection"] == deflections == \
        len(manifest["reporting"]["deflection"])
    assert refresh["run"]["facets"]["deflect_refresh"]["as_of"] == manifest["as_of"]
    assert f"{database}.staging.stg_meg__case" in {i["name"] for i in refresh["inputs"]}
