"""Backfill / replay: offer again every file the landing archive received in a date range.

Manual only. Stages the files received from `from_date` to `to_date` (landing_dir/<source>/
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
    DEFAULT_ARGS,
    TAGS,
    as_of_date,
    ingest_chain,
    load_config,
    new_run_id,
    record_airflow_run,
    replay_config_file,
)


@task
def begin_replay() -> str:
    """Stage the range, start the pipeline run over it; returns its id."""
    import shutil

    from deflect import backfill, pipeline
    from deflect.config import load_config as load

    context = get_current_context()
    params = context["params"]
    config = load_config()
    config.person_key_secret()
    run_id = new_run_id(context["dag"].dag_id, context["dag_run"].run_id)
    staged_config, _ = backfill.stage_landing(
        config, dt.date.fromisoformat(params["from_date"]), dt.date.fromisoformat(params["to_date"]),
        label=run_id, sources=params.get("sources") or None)
    replay = load(staged_config)
    pipeline.start_run(replay, as_of=as_of_date(context), run_id=run_id)
    # every later task of this run loads the replay configuration (deflect_common.load_config)
    shutil.copyfile(staged_config, replay_config_file(config, run_id))
    record_airflow_run(config, run_id, context)
    return run_id


@dag(
    dag_id="deflect_replay",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="America/Chicago"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=12),
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "replay"],
    params={
        "from_date": Param(type="string", format="date", description="first receipt day"),
        "to_date": Param(type="string", format="date", description="last receipt day"),
        "sources": Param([], type="array", description="source names (default: all)"),
        "as_of": Param(None, type=["null", "string"], format="date"),
    },
    doc_md=__doc__,
)
def deflect_replay():
    ingest_chain(begin_replay())


deflect_replay()
