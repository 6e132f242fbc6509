"""The DAG files parse cleanly, cheaply and say what they are: parsed by Airflow's own DagBag in
a subprocess (so the test process never imports Airflow or touches an Airflow home)."""
from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from tests.dags.helpers import DAGS, ROOT, airflow_env

HEAVY = {"pandas", "great_expectations", "lxml", "paramiko", "duckdb", "psycopg", "xmlschema",
         "deflect", "ingestion", "warehouse", "transforms", "stewardship"}
DAG_IDS = {"deflect_nightly", "deflect_reporting", "deflect_replay"}
STAGING = "deflect://warehouse/staging"


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    proc = subprocess.run([sys.executable, str(ROOT / "tests/dags/dagbag_probe.py"), str(DAGS)],
                          env=airflow_env(home), cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE-JSON ")), None)
    assert line, f"probe failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(line[len("PROBE-JSON "):])


def test_no_import_errors_and_every_dag_found(probe):
    assert probe["import_errors"] == {}
    assert set(probe["dags"]) == DAG_IDS


def test_every_dag_has_owner_tags_retries(probe):
    for dag_id, d in probe["dags"].items():
        assert d["owner"] not in ("", "airflow"), dag_id
        assert "deflect" in d["tags"], dag_id
        for task_id, t in d["tasks"].items():
            assert t["owner"] == d["owner"], (dag_id, task_id)
            if task_id != "summary":  # the summary reports; retrying it changes nothing
                assert t["retries"] >= 1, (dag_id, task_id)
                assert t["retry_exponential_backoff"] > 1, (dag_id, task_id)


def test_parse_time_under_a_second_per_file(probe):
    for name, f in probe["files"].items():
        assert f["seconds"] < 1.0, (name, f["seconds"])


def test_parsing_imports_nothing_heavy(probe):
    assert HEAVY.isdisjoint(probe["new_modules"]), sorted(HEAVY & set(probe["new_modules"]))


def test_shared_module_is_not_a_dag_file(probe):
    assert probe["files"]["deflect_common.py"]["dags"] == []
    assert (DAGS / ".airflowignore").read_text().split() == ["deflect_common.py"]


def test_nightly_shape(probe):
    d = probe["dags"]["deflect_nightly"]
    assert d["timetable"] == "CronTriggerTimetable" and d["summary"] == "30 4 * * *"
    assert d["catchup"] is False and d["max_active_runs"] == 1
    t = d["tasks"]
    assert t["plan"]["mapped"] and t["process"]["mapped"]
    assert not t["load"]["mapped"]
    # one source's failure does not stop the others, and load + summary always run
    for task_id in ("batches", "load", "summary"):
        assert t[task_id]["trigger_rule"] == "all_done", task_id
    assert t["load"]["outlets"] == [STAGING]
    assert {"sources", "plan", "process", "load", "summary"} == set(t["begin"]["downstream"])
    assert t["process"]["downstream"] == ["load"] and t["load"]["downstream"] == ["summary"]
    assert "as_of" in d["params"]


def test_reporting_runs_on_the_staging_asset(probe):
    d = probe["dags"]["deflect_reporting"]
    assert d["timetable"] == "AssetTriggeredTimetable"
    assert d["schedule_assets"] == [STAGING]
    assert d["tasks"]["refresh"]["outlets"] == ["deflect://warehouse/reporting"]
    assert d["tasks"]["report"]["trigger_rule"] == "all_done"
    # a quarter due for a vintage is published from the refreshed warehouse
    assert "publish" in d["tasks"]["refresh"]["downstream"]


def test_replay_is_manual_and_loads_like_the_nightly(probe):
    d = probe["dags"]["deflect_replay"]
    assert d["timetable"] == "NullTimetable"
    assert {"from_date", "to_date", "sources", "as_of"} <= set(d["params"])
    nightly = probe["dags"]["deflect_nightly"]["tasks"]
    for task_id in ("sources", "plan", "batches", "process", "load", "summary"):
        assert d["tasks"][task_id]["trigger_rule"] == nightly[task_id]["trigger_rule"]
    assert d["tasks"]["load"]["outlets"] == [STAGING]


@pytest.mark.parametrize("season, utc_hours", [("spring", [10, 9, 9, 9]),
                                                ("fall", [9, 10, 10, 10])])
def test_nightly_runs_once_a_night_at_0430_chicago_across_dst(probe, season, utc_hours):
    runs = [dt.datetime.fromisoformat(r) for r in probe["dst"][season]]
    local = [r.astimezone(ZoneInfo("America/Chicago")) for r in runs]
    assert [(x.hour, x.minute) for x in local] == [(4, 30)] * 4
    days = [x.date() for x in local]
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
    assert [r.hour for r in runs] == utc_hours


def test_the_dags_time_zone_is_the_projects():
    """deflect_common spells the zone out (parsing imports nothing of the project); it must be
    deflect.core.dates.TIME_ZONE."""
    import ast

    from deflect.core.dates import TIME_ZONE

    tree = ast.parse((DAGS / "deflect_common.py").read_text(encoding="utf-8"))
    values = [n.value.value for n in tree.body if isinstance(n, ast.Assign)
              and any(getattr(t, "id", None) == "CHICAGO" for t in n.targets)]
    assert values == [TIME_ZONE]
