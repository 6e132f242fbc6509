"""Reporting refresh: runs whenever a load has produced a new state of the staging tables.

Scheduled on the asset `deflect://warehouse/staging` (emitted by the load of `deflect_nightly`
and `deflect_replay`). Recomputes linking, attribution and follow-up over everything known,
refreshes the `reporting` views (emitting `deflect://warehouse/reporting`), publishes every
quarter that is due (publication.md §3: `statutory_lag_days` after it closes, then monthly until
it is a year old; deflect.publish.due_periods), writes the run's validation report, and logs the
III.E.3 figures. A vintage that fails the disclosure audit fails the publish task, naming the cell.

The run id comes from the triggering asset event; a manual run takes the `run_id` param, else the
latest pipeline run (what `airflow dags test deflect_reporting` does after the nightly DAG).
"""
from __future__ import annotations

import datetime as dt
import logging

import pendulum
from airflow.sdk import Param, TriggerRule, dag, get_current_context, task
from deflect_common import (
    CHICAGO,
    DEFAULT_ARGS,
    REPORTING,
    STAGING,
    TAGS,
    WAREHOUSE_TASK,
    emit_lineage,
    load_config,
)

log = logging.getLogger(__name__)


@task
def resolve_run() -> str:
    """The pipeline run to refresh for: newest triggering event, else the param, else the latest."""
    from deflect import pipeline

    context = get_current_context()
    events = list((context.get("triggering_asset_events") or {}).get(STAGING, []))
    with_run = [e for e in events if (e.extra or {}).get("run_id")]
    if with_run:
        return max(with_run, key=lambda e: e.timestamp).extra["run_id"]
    given = (context.get("params") or {}).get("run_id")
    return given or pipeline.latest_run_id(load_config())


@task(outlets=[REPORTING], **WAREHOUSE_TASK)
def refresh(pipeline_run: str) -> None:
    from deflect import lineage, pipeline

    config = load_config(pipeline_run)
    pipeline.refresh(config, pipeline_run)
    emit_lineage(lambda: lineage.refresh_lineage(config, pipeline_run))


@task
def publish(pipeline_run: str) -> list[str]:
    """Every quarter due for a vintage, as of the run's as-of date. A retry is safe: a vintage
    is written in one transaction, and the same figures as of the same date are not written
    twice."""
    from deflect.publish import format_published, publish_due_for_run

    results = publish_due_for_run(load_config(pipeline_run), pipeline_run)
    for result in results:
        for line in format_published(result).splitlines():
            log.info("%s", line)
    return [r["vintage_id"] for r in results]


@task(trigger_rule=TriggerRule.ALL_DONE)
def report(pipeline_run: str) -> str:
    """The validation report (stewardship), written even when the refresh failed."""
    from deflect import pipeline

    path = pipeline.report(load_config(pipeline_run), pipeline_run)["report"]
    log.info("validation report: %s", path)
    return str(path)


@task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
def summary(pipeline_run: str) -> None:
    from deflect.summary import format_summary
    from deflect.summary import summary as run_summary

    result = run_summary(load_config(pipeline_run), pipeline_run)
    for line in format_summary(result).splitlines():
        log.info("%s", line)


@dag(
    dag_id="deflect_reporting",
    schedule=[STAGING],
    start_date=pendulum.datetime(2026, 1, 1, tz=CHICAGO),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=2),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "reporting"],
    params={"run_id": Param(None, type=["null", "string"],
                            description="pipeline run id (default: the triggering load's)")},
    doc_md=__doc__,
)
def deflect_reporting():
    pipeline_run = resolve_run()
    refreshed = refresh(pipeline_run)
    reported = report(pipeline_run)
    refreshed >> reported >> summary(pipeline_run)
    refreshed >> publish(pipeline_run)


deflect_reporting()
