"""Nights of a generated drop served one after another, for tests that run `deflect run` on
them: the files dated up to a night copied into a served directory, a configuration that reads
them (file:// sources) into a given warehouse, and the warehouses' tables to compare."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

_DAY = re.compile(r"_(\d{8})(?:T|\.xml)")


def serve_until(drop_dir: Path, served: Path, last_day: str | None) -> None:
    """Copy the drop's files (with their markers) dated up to `last_day` (YYYYMMDD; None: all)
    into `served`."""
    for path in sorted(drop_dir.rglob("*")):
        rel = path.relative_to(drop_dir)
        if not path.is_file() or rel.parts[0] not in ("tracs", "meg"):
            continue
        m = _DAY.search(path.name)
        if m is None or (last_day is not None and m.group(1) > last_day):
            continue
        dest = served / rel
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)  # mtimes kept: a MEG marker is not older than its file


def night_config(drop_dir: Path, work: Path, url: str, meg_units: int) -> Path:
    """A configuration at work/deflect.yaml: the drop's TraCS source and its first `meg_units`
    MEG sources, read from work/served, into the warehouse at `url`."""
    data = yaml.safe_load((drop_dir / "deflect.yaml").read_text(encoding="utf-8"))
    meg = [s for s in data["sources"] if s["kind"] == "meg"][:meg_units]
    tracs = [s for s in data["sources"] if s["kind"] == "tracs"]
    for s in tracs + meg:
        s["url"] = "file://" + str((work / "served" / s["url"].split(":", 1)[1]).resolve())
    data.update(sources=tracs + meg, warehouse=url, landing_dir=str(work / "landing"),
                work_dir=str(work / "work"), report_dir=str(work / "reports"))
    path = work / "deflect.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def table_rows(wh, names, skip) -> dict[str, list[tuple]]:
    """Every row of each table in `names` as a sorted list of text tuples, without the columns in
    `skip` (what names a run or a moment): two warehouses compared table by table."""
    out = {}
    for name in names:
        frame = wh.read_frame(f"SELECT * FROM {name}")
        cols = sorted(c for c in frame.columns if c not in skip)
        out[name] = sorted((tuple(str(v) for v in row)
                            for row in frame[cols].itertuples(index=False)), key=repr)
    return out
