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
from stewardship.quarantine import default_reviewer


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


def replay_file(
    config: Config,
    source_name: str,
    path: str | Path,
    as_of: dt.date | None = None,
    name: str | None = None,
    publish: bool = True,
) -> dict:
    """Run a corrected file from a local path through the same validation and load: one full
    pipeline run over a one-file drop of the configured source. Lineage keeps both: the earlier
    ledger rows stay, the replay adds its own, and `runs/<run_id>/replay.json` records the local
    path it came from."""
    from deflect import pipeline

    try:
        source = config.source(source_name)
    except KeyError:
        raise ReplayError(f"no source named {source_name!r} in {config.path}") from None
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ReplayError(f"no such file: {path}")
    name = name or path.name
    stage = stage_file(config, source.kind, path, name)
    result = pipeline.run(replay_config(config, {source_name: stage}), as_of=as_of,
                          publish=publish)
    record = {
        "run_id": result["run_id"],
        "source": source_name,
        "original_path": str(path),
        "name": name,
        "sha256": hashlib.sha256((stage / name).read_bytes()).hexdigest(),
        "staged_in": str(stage),
        "replayed_by": default_reviewer(),
        "replayed_at": now_utc(),
    }
    out = run_dir(config, result["run_id"]) / "replay.json"
    out.write_text(json.dumps(record, indent=2), encoding="utf-8")
    result["replay"] = record
    return result
