"""Backfill / replay from the landing archive: offer again every file received in a date range.

The landing area keeps each received file as `landing_dir/<source>/<yyyymmdd>/<name>.<sha12>`
(the day it was received). A backfill stages those files under their original names, with the
completion marker their source's protocol expects (TraCS `.sha256` sidecar, MEG `.done`), as one
`file://` drop per source, and runs the normal pipeline over them. The ledger decides as always:
on a warehouse that already holds them they are duplicates (nothing changes); on a new or rebuilt
warehouse they load in full.

Within the range the last copy of a name wins (a corrected MEG re-send supersedes the original
under the same name, and one drop cannot hold two files of one name); earlier copies are listed
in the staging manifest as `superseded`.

    python -m deflect.backfill --config FILE --from YYYY-MM-DD --to YYYY-MM-DD
                               [--source NAME ...] [--as-of YYYY-MM-DD]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import re
import sys
from pathlib import Path

import yaml

from adapters.registry import adapter_for
from deflect.configuration import load_config
from deflect.core.config import Config
from deflect.core.dates import cli_date
from deflect.errors import fail
from deflect.replay import new_stage_dir, replay_config_data
from ingestion.landing import link_or_copy, safe_name

_LANDED = re.compile(r"^(?P<name>.+)\.(?P<sha>[0-9a-f]{12})$")
_DAY = re.compile(r"^\d{8}$")


class BackfillError(ValueError):
    """The range or the sources asked for make no sense for this configuration."""


@dataclasses.dataclass(frozen=True)
class LandedFile:
    day: dt.date
    path: Path
    name: str  # the original remote name


def landed_files(config: Config, source_name: str, start: dt.date, end: dt.date) -> list[LandedFile]:
    """Every file of one source received from `start` to `end` (inclusive), oldest first."""
    base = Path(config.landing_dir) / safe_name(source_name)
    found = []
    if not base.is_dir():
        return found
    for day_dir in sorted(p for p in base.iterdir() if p.is_dir() and _DAY.match(p.name)):
        day = dt.datetime.strptime(day_dir.name, "%Y%m%d").date()
        if not start <= day <= end:
            continue
        for p in sorted(day_dir.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)):
            m = _LANDED.match(p.name)
            if p.is_file() and m and not p.name.startswith("."):
                found.append(LandedFile(day, p, m.group("name")))
    return found


def stage_source(config: Config, source_name: str, start: dt.date, end: dt.date,
                 stage_dir: Path) -> dict:
    """Stage one source's landed files as a complete drop in `stage_dir`; returns its manifest."""
    adapter = adapter_for(config.source(source_name).kind)
    stage_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    latest: dict[str, LandedFile] = {}
    superseded = []
    for f in landed_files(config, source_name, start, end):
        if f.name in latest:
            superseded.append(str(latest[f.name].path))
        latest[f.name] = f
    for name, f in sorted(latest.items()):
        target = stage_dir / name
        target.unlink(missing_ok=True)
        link_or_copy(f.path, target)
        adapter.mark_complete(stage_dir, name)  # after the data file, as the protocol says
    return {"source": source_name, "dir": str(stage_dir), "files": len(latest),
            "superseded": superseded}


def stage_landing(config: Config, start: dt.date, end: dt.date, label: str,
                  sources: list[str] | None = None) -> tuple[Path, dict]:
    """Stage the range for the chosen sources (default: all) and write the replay configuration.

    Returns (path of the replay configuration, staging manifest). `label` names the staging area
    (`landing_dir/replay/<label>/`); the configuration is written beside it.
    """
    if end < start:
        raise BackfillError(f"the range ends ({end}) before it starts ({start})")
    names = sources or [s.name for s in config.sources]
    unknown = sorted(set(names) - {s.name for s in config.sources})
    if unknown:
        raise BackfillError(f"no source named {unknown[0]!r} in {config.path}")
    root = new_stage_dir(config, label)
    manifest = {"from": start.isoformat(), "to": end.isoformat(), "sources": []}
    staged = {}
    for name in names:
        entry = stage_source(config, name, start, end, root / safe_name(name))
        manifest["sources"].append(entry)
        staged[name] = entry["dir"]
    path = root / "deflect.yaml"
    path.write_text(yaml.safe_dump(replay_config_data(config, staged), sort_keys=False),
                    encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path, manifest


def start_backfill_run(config: Config, start: dt.date, end: dt.date,
                       sources: list[str] | None = None, as_of: dt.date | None = None,
                       airflow: dict | None = None) -> str:
    """Stage the range and start a pipeline run over it (the replay DAG's first task); its run
    id. The run's tasks find the staged configuration with pipeline.config_for_run."""
    import shutil

    from deflect import pipeline

    run_id = pipeline.new_run_id(f"{airflow['dag_id']}/{airflow['run_id']}" if airflow else None)
    path, _ = stage_landing(config, start, end, run_id, sources)
    pipeline.start_run(load_config(path), as_of=as_of, run_id=run_id, airflow=airflow)
    shutil.copyfile(path, pipeline.replay_config_file(config, run_id))
    return run_id


def backfill(config: Config, start: dt.date, end: dt.date, sources: list[str] | None = None,
             as_of: dt.date | None = None, lock: bool = True, progress: dict | None = None) -> dict:
    """Stage the range and run the pipeline over it in-process; returns the run summary.
    `progress`: pipeline.run's progress callbacks (deflect.progress.RunProgress.callbacks())."""
    from deflect import pipeline

    label = "backfill-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path, manifest = stage_landing(config, start, end, label, sources)
    result = pipeline.run(load_config(path), as_of=as_of, lock=lock, **(progress or {}))
    result["staged"] = manifest
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="deflect backfill", description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True)
    p.add_argument("--from", dest="start", type=cli_date, required=True, help="first receipt day")
    p.add_argument("--to", dest="end", type=cli_date, required=True, help="last receipt day")
    p.add_argument("--source", action="append", help="a source name (repeatable; default: all)")
    p.add_argument("--as-of", type=cli_date, default=None)
    args = p.parse_args(argv)
    from deflect.progress import run_progress
    from deflect.summary import format_summary

    # the progress lines off a terminal are INFO log lines: log as `deflect run` does
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("paramiko", "great_expectations", "airflow", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        config.person_key_secret()
        # a bar on a terminal, log lines otherwise (deflect.progress)
        with run_progress(args.source or [s.name for s in config.sources]) as reporter:
            result = backfill(config, args.start, args.end, args.source, args.as_of,
                              progress=reporter.callbacks())
    except BackfillError as exc:
        print(f"deflect backfill: {exc}", file=sys.stderr)
        return 2
    except BaseException as exc:  # noqa: BLE001 - every failure ends in one clear line
        return fail(exc, "deflect backfill")
    files = sum(s["files"] for s in result["staged"]["sources"])
    print(f"staged {files} files received {args.start} to {args.end}")
    print(format_summary(result))
    return 1 if result["failed_sources"] else 0


if __name__ == "__main__":
    sys.exit(main())
