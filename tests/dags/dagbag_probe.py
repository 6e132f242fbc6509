"""Run in a subprocess by test_dagbag.py: parse every DAG file as Airflow does (BundleDagBag)
and print, as JSON, what the tests check: import errors, per-file parse time, the DAGs'
settings, the modules parsing imported, and the nightly schedule around the DST changes."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

dags_dir = Path(sys.argv[1]).resolve()

import airflow.sdk  # noqa: F401  Airflow itself is the baseline, not the DAGs' cost
import pendulum
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.timetables.base import TimeRestriction

baseline = set(sys.modules)


def describe(dag) -> dict:
    tasks = {}
    for t in dag.tasks:
        tasks[t.task_id] = {
            "owner": t.owner, "retries": t.retries, "trigger_rule": getattr(t.trigger_rule, "value", str(t.trigger_rule)),
            "retry_exponential_backoff": float(t.retry_exponential_backoff or 0),
            "mapped": type(t).__name__ == "MappedOperator" or getattr(t, "is_mapped", False),
            "outlets": sorted(getattr(o, "uri", str(o)) for o in (t.outlets or [])),
            "downstream": sorted(t.downstream_task_ids),
        }
    schedule_assets = []
    cond = getattr(dag.timetable, "asset_condition", None)
    if cond is not None:
        schedule_assets = sorted(a.uri for a in getattr(cond, "objects", []) if hasattr(a, "uri"))
    return {
        "owner": dag.owner, "tags": sorted(dag.tags), "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "default_retries": dag.default_args.get("retries"),
        "timetable": type(dag.timetable).__name__,
        "summary": getattr(dag.timetable, "summary", None),
        "timezone": getattr(dag.timetable, "_timezone", None) and str(dag.timetable._timezone),
        "schedule_assets": schedule_assets, "tasks": tasks,
        "params": sorted(dag.params.keys()),
    }


def runs_after(dag, start: str, count: int) -> list[str]:
    restriction = TimeRestriction(earliest=pendulum.parse(start), latest=None, catchup=True)
    out, last = [], None
    for _ in range(count):
        info = dag.timetable.next_dagrun_info(last_automated_data_interval=last,
                                              restriction=restriction)
        out.append(info.run_after.in_timezone("UTC").isoformat())
        last = info.data_interval
    return out


result = {"files": {}, "dags": {}, "import_errors": {}}
for path in sorted(dags_dir.glob("*.py")):
    started = time.perf_counter()
    bag = BundleDagBag(dag_folder=str(path), bundle_path=dags_dir, bundle_name="dags-folder")
    result["files"][path.name] = {"seconds": time.perf_counter() - started,
                                  "dags": sorted(bag.dag_ids)}
    result["import_errors"].update({str(k): v for k, v in bag.import_errors.items()})
    for dag_id, dag in bag.dags.items():
        result["dags"][dag_id] = describe(dag)
        if dag_id == "deflect_nightly":
            result["dst"] = {"spring": runs_after(dag, "2027-03-12T12:00:00Z", 4),
                             "fall": runs_after(dag, "2026-10-30T12:00:00Z", 4)}
result["new_modules"] = sorted({m.split(".")[0] for m in set(sys.modules) - baseline})
print("PROBE-JSON " + json.dumps(result))
