"""The real DAGs, run by Airflow (`airflow dags test`, SQLite metadata in a temporary home),
against real services: the generated drop served by a loopback sshd, a PostgreSQL warehouse. The
reporting views must equal the generator's ground truth, and a second night must change nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools import local_sftp
from tests.dags.helpers import ROOT, airflow, airflow_env, run_state, tail

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

START, END, SEED = "2026-09-01", "2026-09-10", 11


def generate(out: Path) -> dict:
    subprocess.run([sys.executable, "-m", "generator.cli", "--out", str(out), "--start", START,
                    "--end", END, "--seed", str(SEED), "--forms-per-day", "30", "--no-progress"],
                   cwd=ROOT, check=True, timeout=300, capture_output=True)
    return json.loads((out / "manifest.json").read_text())


def write_config(path: Path, warehouse: str, sources: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({
        "warehouse": warehouse, "landing_dir": "landing", "work_dir": "work",
        "report_dir": "reports", "person_key_secret_env": "DEFLECT_PERSON_KEY",
        "sources": sources}, sort_keys=False))
    return path


def _value(v):
    """Compare numbers as numbers (the warehouse may return Decimal or numpy types), the rest
    as text; NULL and NaN are the same absence."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        return round(float(v), 6)
    except (TypeError, ValueError):
        return str(v)


def rows(records: list[dict], columns: list[str]) -> list[tuple]:
    return sorted(tuple(_value(r.get(c)) for c in columns) for r in records)


def reporting(warehouse: str, view: str) -> list[dict]:
    from warehouse import connect

    with connect(warehouse, read_only=True) as wh:
        return wh.read_frame(f"select * from reporting.{view}").to_dict(orient="records")


def assert_equals_truth(warehouse: str, manifest: dict) -> None:
    for view in ("deflection_counts", "followup_compliance"):
        truth = manifest["reporting"][view]
        assert truth, f"the ground truth has no {view} rows"
        columns = sorted(truth[0])
        assert rows(reporting(warehouse, view), columns) == rows(truth, columns), view


def dags_test(dag_id: str, env: dict, conf: dict, expect: str = "success") -> str:
    proc = airflow(["dags", "test", dag_id, "--conf", json.dumps(conf)], env, timeout=600)
    assert run_state(proc) == expect, tail(proc)
    return proc.stdout + proc.stderr


def load_run_status(warehouse: str) -> dict:
    from warehouse import connect

    with connect(warehouse, read_only=True) as wh:
        frame = wh.read_frame("select source, status, count(*) as n from reporting.load_run "
                              "group by 1, 2")
    return {(r["source"], r["status"]): int(r["n"]) for r in frame.to_dict(orient="records")}


def other_key_line(tmp_path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")],
                   check=True)
    return " ".join((tmp_path / "other.pub").read_text().split()[:2])


@pytest.mark.sshd
@pytest.mark.postgres
def test_nightly_dag_over_sftp_into_postgres_equals_ground_truth(tmp_path, pg_url):
    """Every source of the drop over SFTP, plus one whose pinned host key is wrong: that source
    fails, the others load in full, the reporting equals the ground truth, and the run is
    marked failed (by `summary`, after the load) so it alerts."""
    drop = tmp_path / "drop"
    manifest = generate(drop)
    env = airflow_env(tmp_path / "airflow")
    proc = airflow(["db", "migrate"], env)
    assert proc.returncode == 0, tail(proc)
    with local_sftp.serve(drop) as server:
        sources = local_sftp.sftp_sources(drop / "deflect.yaml", server)
        bad = {**sources[-1], "name": "meg-wrong-pin", "host_key": other_key_line(tmp_path)}
        config = write_config(tmp_path / "deflect.yaml", pg_url, [*sources, bad])
        env["DEFLECT_CONFIG"] = str(config)
        conf = {"as_of": manifest["as_of"]}
        log = dags_test("deflect_nightly", env, conf, expect="failed")
        assert "sources failed: meg-wrong-pin" in log
        dags_test("deflect_reporting", env, {})
        assert_equals_truth(pg_url, manifest)
        status = load_run_status(pg_url)
        assert status.pop(("meg-wrong-pin", "failed")) == 1
        assert set(status) == {(s["name"], "ok") for s in sources}

        # the next night: nothing new on the server, so nothing changes but load_run
        dags_test("deflect_nightly", env, conf, expect="failed")
        dags_test("deflect_reporting", env, {})
    assert_equals_truth(pg_url, manifest)
    assert sum(load_run_status(pg_url).values()) == 2 * (len(sources) + 1)
    report = list((tmp_path / "reports").glob("*/index.html"))
    assert report, "the reporting DAG wrote no validation report"


def test_replay_dag_rebuilds_a_new_warehouse_from_the_landing_archive(tmp_path):
    """A first warehouse is loaded in-process (`deflect run`); the replay DAG then rebuilds a
    second, empty one from what the first run left in the landing archive."""
    from deflect import pipeline
    from deflect.configuration import load_config

    drop = tmp_path / "drop"
    manifest = generate(drop)
    sources = yaml.safe_load((drop / "deflect.yaml").read_text())["sources"]
    for s in sources:  # the generator's relative file: URLs, made absolute for a config elsewhere
        s["url"] = "file://" + str((drop / s["url"].split(":", 1)[1]).resolve())
    first = write_config(tmp_path / "first.yaml", "duckdb:///first.duckdb", sources)
    as_of = dt.date.fromisoformat(manifest["as_of"])
    result = pipeline.run(load_config(first), as_of=as_of)
    assert not result["failed_sources"]

    second = write_config(tmp_path / "second.yaml", "duckdb:///second.duckdb", sources)
    env = airflow_env(tmp_path / "airflow", DEFLECT_CONFIG=str(second))
    proc = airflow(["db", "migrate"], env)
    assert proc.returncode == 0, tail(proc)
    today = dt.date.today().isoformat()  # the landing area files by day of receipt
    dags_test("deflect_replay", env, {"from_date": today, "to_date": today,
                                      "as_of": manifest["as_of"]})
    dags_test("deflect_reporting", env, {})
    assert_equals_truth(f"duckdb://{tmp_path / 'second.duckdb'}", manifest)
