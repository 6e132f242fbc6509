"""Replay: run files again through the same validation and load, from a local path (a steward's
corrected file) or from the landing archive (deflect.backfill).

Either way the files are staged as a `file://` drop of the configured source they belong to
(same name, kind and unit, so the ledger, versions and quarantine history apply), with the
completion marker the source kind's protocol expects (the adapter writes it), and the normal
pipeline runs over that drop. `replay_config_data` is the one way a replay's configuration is
made: in memory for `deflect replay`, as a YAML file for the DAG's tasks.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from pathlib import Path

from adapters.registry import adapter_for
from deflect.core.config import Config, parse_config
from deflect.core.runs import now_utc, run_dir
from stewardship import data as steward_data
from stewardship.quarantine import default_reviewer, resolve_id


class ReplayError(ValueError):
    """A replay that cannot be done as asked (unknown source, missing file, empty range)."""


def _warehouse_for_yaml(url: str) -> str:
    # Config holds duckdb://<absolute path>; the file form of an absolute path is duckdb:////path
    if url.startswith("duckdb://") and url[len("duckdb://"):].startswith("/"):
        return "duckdb:///" + url[len("duckdb://"):]
    return url


def replay_config_data(config: Config, staged: dict[str, str | Path]) -> dict:
    """The configuration of a replay, as the YAML file would hold it: same warehouse, landing,
    work and report areas and limits, and one file:// source per staged directory (same name,
    kind and unit, so the ledger history applies)."""
    sources = []
    for s in config.sources:
        if s.name in staged:
            entry = {"name": s.name, "kind": s.kind, "url": "file://" + str(Path(staged[s.name]))}
            if s.unit:
                entry["unit"] = s.unit
            sources.append(entry)
    data = {
        "warehouse": _warehouse_for_yaml(config.warehouse),
        "landing_dir": str(config.landing_dir),
        "work_dir": str(config.work_dir),
        "report_dir": str(config.report_dir),
        "person_key_secret_env": config.person_key_secret_env,
        "max_file_bytes": config.max_file_bytes,
        "file_shards": config.file_shards,
        "file_timeout_s": config.file_timeout_s,
        "file_memory_mb": config.file_memory_mb,
        "sources": sources,
    }
    if config.reference_units:
        data["reference_units"] = str(config.reference_units)
    return data


def replay_config(config: Config, staged: dict[str, str | Path]) -> Config:
    """`replay_config_data`, as the configuration object a run takes."""
    return parse_config(replay_config_data(config, staged), config.path)


def new_stage_dir(config: Config, label: str | None = None) -> Path:
    """A fresh, owner-only directory under `landing_dir/replay/`."""
    label = label or (dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-"
                      + uuid.uuid4().hex[:8])
    stage = Path(config.landing_dir) / "replay" / label
    stage.mkdir(parents=True, mode=0o700, exist_ok=True)
    return stage


def stage_file(config: Config, kind: str, path: Path, name: str) -> Path:
    """A fresh staging directory holding a copy of `path` as `name`, marked complete the way a
    producer of `kind` marks its files."""
    stage = new_stage_dir(config)
    shutil.copyfile(path, stage / name)
    adapter_for(kind).mark_complete(stage, name)
    return stage


def corrected_run(config: Config, source_name: str, name: str) -> str | None:
    """The run a replay corrects: the latest run whose ledger handled a file of that name for
    that source, else the latest run; None before any run loaded."""
    try:
        with steward_data.open_warehouse(config) as wh:
            handled = steward_data.latest_run_handling(wh, source_name, name)
            if handled:
                return handled
            runs = steward_data.run_ids(wh)
    except Exception:  # noqa: BLE001 - no warehouse yet: nothing to correct
        return None
    return runs[-1] if runs else None


def _as_of_of(config: Config, run_id: str | None) -> dt.date | None:
    if run_id is None:
        return None
    with steward_data.open_warehouse(config) as wh:
        return steward_data.as_of_of(wh, run_id)


def _entry_id(config: Config, entry: str | None) -> str | None:
    if not entry:
        return None
    with steward_data.open_warehouse(config) as wh:
        return resolve_id(wh, entry)


def _prepare(config: Config, source_name: str, path: str | Path, name: str | None,
             entry: str | None, as_of: dt.date | None) -> dict:
    """What a replay of one corrected file needs, checked: its source, file, staged name, entry,
    the run it corrects and the as-of date (that run's unless given)."""
    try:
        source = config.source(source_name)
    except KeyError:
        raise ReplayError(f"no source named {source_name!r} in {config.path}") from None
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ReplayError(f"no such file: {path}")
    name = name or path.name
    replay_of = corrected_run(config, source_name, name)
    return {"source": source, "path": path, "name": name, "entry_id": _entry_id(config, entry),
            "replay_of": replay_of, "as_of": as_of or _as_of_of(config, replay_of)}


def _record_replay(config: Config, run_id: str, p: dict, stage: Path, who: str | None) -> dict:
    """`runs/<run_id>/replay.json` and the row of meta.replay, by which the entry states tell a
    replay's run from a night's run."""
    record = {
        "run_id": run_id,
        "source": p["source"].name,
        "original_path": str(p["path"]),
        "name": p["name"],
        "sha256": hashlib.sha256((stage / p["name"]).read_bytes()).hexdigest(),
        "staged_in": str(stage),
        "replayed_by": who or default_reviewer(),
        "replayed_at": now_utc(),
        "replay_of_run_id": p["replay_of"],
        "entry_id": p["entry_id"],
        "as_of": p["as_of"].isoformat() if p["as_of"] else None,
    }
    out = run_dir(config, run_id) / "replay.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2), encoding="utf-8")
    with steward_data.open_warehouse(config, read_only=False) as wh:
        steward_data.add_replay(
            wh,
            {
                **record,
                "file_name": p["name"],
                "replayed_at": dt.datetime.fromisoformat(record["replayed_at"]),
            },
        )
    return record


def start_file_replay(
    config: Config,
    source_name: str,
    path: str | Path,
    *,
    name: str | None = None,
    entry: str | None = None,
    as_of: dt.date | None = None,
    who: str | None = None,
    airflow: dict | None = None,
) -> str:
    """The replay DAG's first task for one corrected file (the steward workbench's upload):
    stage it, start a pipeline run over its source alone and record the replay; the run id.
    The run's tasks find the staged configuration with pipeline.config_for_run, as a backfill's.

    The file must lie under `landing_dir`: whoever may trigger the DAG names it, and the
    workers must not be made to read anything else."""
    import yaml

    from deflect import pipeline

    inside = Path(config.landing_dir).resolve()
    if inside not in Path(path).expanduser().resolve().parents:
        raise ReplayError(f"a corrected file to replay must lie under {inside}: {path}")
    p = _prepare(config, source_name, path, name, entry, as_of)
    stage = stage_file(config, p["source"].kind, p["path"], p["name"])
    run_id = pipeline.new_run_id(f"{airflow['dag_id']}/{airflow['run_id']}" if airflow else None)
    staged = {source_name: stage}
    pipeline.start_run(replay_config(config, staged), as_of=p["as_of"], run_id=run_id,
                       airflow=airflow)
    pipeline.replay_config_file(config, run_id).write_text(
        yaml.safe_dump(replay_config_data(config, staged), sort_keys=False), encoding="utf-8")
    _record_replay(config, run_id, p, stage, who)
    return run_id


def replay_file(
    config: Config,
    source_name: str,
    path: str | Path,
    as_of: dt.date | None = None,
    name: str | None = None,
    publish: bool = True,
    entry: str | None = None,
) -> dict:
    """Run a corrected file from a local path through the same validation and load: one full
    pipeline run over a one-file drop of the configured source. Lineage keeps both: the earlier
    ledger rows stay, the replay adds its own, and `runs/<run_id>/replay.json` and `meta.replay`
    record where it came from and which run (and entry) it corrects.

    The replay keeps the as-of date of the run it corrects unless `as_of` is given, so that its
    figures are those of that night with the file corrected, not of today."""
    from adapters.registry import field_classes
    from deflect import pipeline
    from stewardship.report import replay_label, write_run_report

    p = _prepare(config, source_name, path, name, entry, as_of)
    stage = stage_file(config, p["source"].kind, p["path"], p["name"])
    result = pipeline.run(replay_config(config, {source_name: stage}), as_of=p["as_of"],
                          publish=publish)
    record = _record_replay(config, result["run_id"], p, stage, None)
    if publish:
        # the run's report was written before the replay was recorded: again, with its label
        # and the states the replay gave
        result["report"] = str(write_run_report(config, result["run_id"], field_classes()))
    result["replay"] = record
    result["replay_label"] = replay_label(
        {"replay_of_run_id": p["replay_of"], "entry_id": p["entry_id"], "file_name": p["name"],
         "replayed_by": record.get("replayed_by")}
    )
    return result
