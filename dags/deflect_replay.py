"""Backfill / replay: offer again every file the landing archive received in a date range, or
one corrected file of a source (the steward workbench's upload).

Manual only. With `file` (and `source`): stages that file as a one-file drop of the source and
runs the chain over it, recorded as a replay of the entry named by `entry`, by `requested_by`
(deflect.replay.start_file_replay; what `deflect replay` does outside Airflow). Otherwise stages the files received from `from_date` to `to_date` (landing_dir/<source>/
<yyyymmdd>/) as file:// drops with their completion markers, then runs the same chain as the
nightly DAG over them (see deflect.backfill). The file ledger decides as always: files the
warehouse already holds are duplicates and change nothing; on a new or rebuilt warehouse they load
in full. The load emits `deflect://warehouse/staging`, so the reporting refresh follows.

Same as `python -m deflect.backfill --config FILE --from D --to D` outside Airflow.
"""
from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
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
def begin_replay() -> str:
    """Stage the file or the range, start the pipeline run over it; returns its id."""
    from deflect import backfill, replay

    context = get_current_context()
    params = context["params"]
    config = load_config()
    config.person_key_secret()
    if params.get("file"):
        if not params.get("source"):
            raise ValueError("a corrected file needs the source it belongs to (param source)")
        return replay.start_file_replay(
            config, params["source"], params["file"], name=params.get("name") or None,
            entry=params.get("entry") or None,
            as_of=dt.date.fromisoformat(params["as_of"]) if params.get("as_of") else None,
            who=params.get("requested_by") or None, airflow=airflow_run(context))
    if not (params.get("from_date") and params.get("to_date")):
        raise ValueError("give from_date and to_date (a range), or file and source")
    # every later task of this run loads the replay configuration (deflect_common.load_config)
    return backfill.start_backfill_run(
        config, dt.date.fromisoformat(params["from_date"]),
        dt.date.fromisoformat(params["to_date"]), sources=params.get("sources") or None,
        as_of=as_of_date(context), airflow=airflow_run(context))


@dag(
    dag_id="deflect_replay",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz=CHICAGO),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=12),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "replay"],
    params={
        "from_date": Param(None, type=["null", "string"], format="date",
                           description="first receipt day"),
        "to_date": Param(None, type=["null", "string"], format="date",
                         description="last receipt day"),
        "sources": Param([], type="array", description="source names (default: all)"),
        "as_of": Param(None, type=["null", "string"], format="date"),
        "file": Param(None, type=["null", "string"],
                      description="a corrected file under landing_dir (instead of a range)"),
        "source": Param(None, type=["null", "string"], description="the file's source"),
        "name": Param(None, type=["null", "string"], description="stage the file under this name"),
        "entry": Param(None, type=["null", "string"], description="the entry the file corrects"),
        "requested_by": Param(None, type=["null", "string"], description="who asked for it"),
    },
    doc_md=__doc__,
)
def deflect_replay():
    ingest_chain(begin_replay())


deflect_replay()
