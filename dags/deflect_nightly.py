"""Nightly ingestion of the TraCS and MEG / task force exports (ISP directive III.E.3).

Runs at 04:30 America/Chicago: after the TraCS export (about 01:30) and the end of the MEG export
window (22:00-04:00), and outside the hours a DST change skips or repeats (01:00-03:00), so it
runs exactly once every night of the year. The cron is read in Chicago time, so the UTC time
moves with DST and the local time does not.

    begin -> sources -> plan[source] -> batches -> process[batch] -> load -> summary

The sources are those of the configuration file `deflect run` reads ($DEFLECT_CONFIG or the
Variable `deflect_config`), read when the run starts: one mapped `plan` per source, one mapped
`process` per batch of files. A source that fails is recorded as failed and the others go on;
`load` and `summary` run whatever happened upstream, and `summary` fails the run (after the
load) when a source failed. A successful load emits the asset `deflect://warehouse/staging`,
which schedules `deflect_reporting`.

Params: `as_of` (YYYY-MM-DD) fixes the date follow-up figures are computed for (default: the
Chicago date of the scheduled night).
"""
from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable
from deflect_common import (
    CHICAGO,
    DEFAULT_ARGS,
    TAGS,
    WAREHOUSE_TASK,
    airflow_run,
    as_of_date,
    ingest_chain,
    load_config,
)


@task(**WAREHOUSE_TASK)
def begin() -> str:
    """Start the pipeline run (migrates the warehouse); returns its id."""
    from deflect import pipeline

    context = get_current_context()
    config = load_config()
    config.person_key_secret()  # fail here, naming the variable, before any source is touched
    return pipeline.start_run(config, as_of=as_of_date(context), airflow=airflow_run(context))


@dag(
    dag_id="deflect_nightly",
    schedule=CronTriggerTimetable("30 4 * * *", timezone=CHICAGO),
    start_date=pendulum.datetime(2026, 1, 1, tz=CHICAGO),
    catchup=False,
    max_active_runs=1,  # two runs at once would race on the file ledger
    dagrun_timeout=dt.timedelta(hours=6),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "ingestion"],
    params={"as_of": Param(None, type=["null", "string"], format="date",
                           description="as-of date YYYY-MM-DD (default: the night's date)")},
    doc_md=__doc__,
)
def deflect_nightly():
    ingest_chain(begin())


deflect_nightly()
