"""What the deflect DAGs share: defaults, assets, where the configuration is, and the ingestion
chain (plan per source -> process per batch -> load -> summary) over `deflect.pipeline`.

Not a DAG file (listed in .airflowignore). Parse-time cost matters: only the Task SDK is imported
here; `deflect.*` and everything heavy (pandas, lxml, paramiko, DuckDB, psycopg, GX) is imported
inside the tasks. Tasks call only the composing layer (`deflect.pipeline`, `deflect.summary`,
`deflect.backfill`, `deflect.configuration`) and exchange only run ids, source names and batch ids.
"""
from __future__ import annotations

import datetime as dt
import logging
import os

from airflow.sdk import Asset, TriggerRule, task

log = logging.getLogger(__name__)

OWNER = "records-integration"
TAGS = ["deflect", "iii-e-3"]
# deflect.core.dates.TIME_ZONE, spelled out so that parsing imports nothing of the project
# (tests/dags/test_dagbag.py checks the two agree)
CHICAGO = "America/Chicago"
CONFIG_ENV = "DEFLECT_CONFIG"  # path of the configuration file (operations.md)
CONFIG_VARIABLE = "deflect_config"  # the same, as an Airflow Variable, when the env is not set

# Emitted by every successful load: the reporting DAG is scheduled on it.
STAGING = Asset(uri="deflect://warehouse/staging", name="deflect_staging")
# Emitted by the reporting refresh: for whatever consumes the published figures.
REPORTING = Asset(uri="deflect://warehouse/reporting", name="deflect_reporting")

# Retries ride out an SFTP server or warehouse blip. The demo and the tests shorten the delay
# through the environment (a failing task would otherwise hold `airflow dags test` for minutes).
DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": int(os.environ.get("DEFLECT_AIRFLOW_RETRIES", "2")),
    "retry_delay": dt.timedelta(seconds=float(os.environ.get("DEFLECT_AIRFLOW_RETRY_DELAY", "120"))),
    "retry_exponential_backoff": 2.0,  # 2, 4 min by default (capped below)
    "max_retry_delay": dt.timedelta(minutes=20),
    "execution_timeout": dt.timedelta(hours=2),
}

# The tasks that write the warehouse (begin migrates it, load, the reporting refresh) go to the
# Celery queue DEFLECT_WAREHOUSE_QUEUE names, when it is set, so that only the workers consuming it
# (those that reach the database; one writer at a time) run them, while every worker takes the
# mapped plan and process tasks from the default queue. Unset, everything is on the default
# queue. Read at parse time: the DAG processor, scheduler and workers share it (operations.md).
WAREHOUSE_QUEUE = os.environ.get("DEFLECT_WAREHOUSE_QUEUE") or None
WAREHOUSE_TASK = {"queue": WAREHOUSE_QUEUE} if WAREHOUSE_QUEUE else {}


def config_path() -> str:
    """The configuration file: $DEFLECT_CONFIG, else the Airflow Variable `deflect_config`."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        from airflow.sdk import Variable

        path = Variable.get(CONFIG_VARIABLE, default=None)
    if not path:
        raise RuntimeError(
            f"no configuration: set the environment variable {CONFIG_ENV} or the Airflow "
            f"Variable {CONFIG_VARIABLE} to the path of the deflect configuration file")
    return path


def load_config(run_id: str | None = None):
    """The configuration a task works with: the main one, or a replay run's own."""
    from deflect.pipeline import config_for_run

    return config_for_run(config_path(), run_id)


def as_of_date(context) -> dt.date:
    """The as-of date of a run: the `as_of` param when given, else the Chicago calendar date of
    the run's logical date (the scheduled night), else of the moment it was queued."""
    given = (context.get("params") or {}).get("as_of")
    if given:
        return dt.date.fromisoformat(str(given))
    from zoneinfo import ZoneInfo

    when = context.get("logical_date") or context["dag_run"].run_after
    return when.astimezone(ZoneInfo(CHICAGO)).date()


def airflow_run(context) -> dict:
    """Lineage: which Airflow run a pipeline run comes from."""
    dag_run = context["dag_run"]
    return {"dag_id": dag_run.dag_id, "run_id": dag_run.run_id, "run_type": str(dag_run.run_type)}


def emit_lineage(compute) -> None:
    """OpenLineage: the datasets and facets `compute()` (a `deflect.lineage` function) gives for
    this task run, handed to Airflow's OpenLineage provider, which emits them as a RUNNING event
    of the task's own run, between the START and COMPLETE events it emits for every task.

    Nothing is computed when no OpenLineage transport is configured; a failure here is logged
    and never fails the task (the data is loaded whether or not its lineage was sent)."""
    try:
        from airflow.providers.openlineage.api import emit_dataset_lineage, is_openlineage_active
    except ImportError:  # the provider is not installed
        return
    if not is_openlineage_active():
        return
    try:
        from deflect.lineage import to_openlineage

        inputs, outputs, run_facets = to_openlineage(compute())
        if inputs or outputs:
            emit_dataset_lineage(inputs=inputs, outputs=outputs,
                                 additional_run_facets=run_facets)
    except Exception:  # lineage must never fail the pipeline
        log.warning("OpenLineage: the lineage of this task was not emitted", exc_info=True)


def ingest_chain(pipeline_run) -> None:
    """sources -> plan (mapped per source) -> batches -> process (mapped per batch) -> load ->
    summary, after the DAG's first task, whose output is the pipeline run id.

    A source that fails is recorded as failed by the pipeline; the others go on, and load and
    summary run whatever happened upstream (trigger rule all_done).
    """

    @task
    def sources(pipeline_run: str) -> list[str]:
        """The run's sources, from the configuration it was started with."""
        return [s.name for s in load_config(pipeline_run).sources]

    @task(map_index_template="{{ source_name }}")
    def plan(pipeline_run: str, source_name: str) -> list[str]:
        from airflow.sdk import get_current_context

        from deflect import pipeline

        get_current_context()["source_name"] = source_name  # names the mapped instance in the UI
        return pipeline.plan_source(load_config(pipeline_run), pipeline_run, source_name)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def batches(batch_lists) -> list[str]:
        # a source whose plan task failed outright contributes nothing; the others go on
        return [b for lst in batch_lists if lst for b in lst]

    @task(map_index_template="{{ batch_id }}")
    def process(pipeline_run: str, batch_id: str) -> None:
        from airflow.sdk import get_current_context

        from deflect import lineage, pipeline

        get_current_context()["batch_id"] = batch_id
        config = load_config(pipeline_run)
        pipeline.process_batch(config, pipeline_run, batch_id)
        emit_lineage(lambda: lineage.process_lineage(config, pipeline_run, batch_id))

    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=[STAGING], **WAREHOUSE_TASK)
    def load(pipeline_run: str, *, outlet_events=None) -> None:
        from deflect import lineage, pipeline

        config = load_config(pipeline_run)
        totals = pipeline.load_run(config, pipeline_run)
        emit_lineage(lambda: lineage.load_lineage(config, pipeline_run))
        # the reporting DAG finds its run id here (and the figures in its logs)
        outlet_events[STAGING].extra = {
            "run_id": pipeline_run,
            "files_loaded": sum(int(t["files_loaded"]) for t in totals.values()),
            "failed_sources": sorted(k for k, t in totals.items() if t["status"] != "ok"),
        }

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def summary(pipeline_run: str) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from deflect.summary import summary as run_summary

        result = run_summary(load_config(pipeline_run), pipeline_run)
        for name, s in sorted(result["sources"].items()):
            log.info("source %s: %s, %s files seen, %s loaded, %s quarantined, %s records loaded%s",
                     name, s["status"], s["files_seen"], s["files_loaded"], s["files_quarantined"],
                     s["records_loaded"], f" ({s['error']})" if s.get("error") else "")
        if not result["sources"]:
            raise AirflowFailException(f"run {pipeline_run}: nothing was loaded")
        if result["failed_sources"]:
            # the run is marked failed so it alerts, after every other source was processed
            raise AirflowFailException(
                f"run {pipeline_run}: sources failed: {', '.join(result['failed_sources'])}")

    planned = plan.partial(pipeline_run=pipeline_run).expand(source_name=sources(pipeline_run))
    processed = process.partial(pipeline_run=pipeline_run).expand(batch_id=batches(planned))
    loaded = load(pipeline_run)
    processed >> loaded
    loaded >> summary(pipeline_run)
