"""`generate()`: simulate the nights from start to end, write the drop, then the manifest."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from generator import truth
from generator.config import GeneratorConfig
from generator.defects import DefectPlanner
from generator.drop import Ledger, MegNight, TracsNight
from generator.model import ISP_ORI, epoch
from generator.simulate import World

DAY = dt.timedelta(days=1)


class GeneratorError(RuntimeError):
    """A problem the user can fix (missing secret variable, bad options)."""


class PeopleWriter:
    """people.json: every generated name and birth date, streamed (for PII-leak tests only)."""

    def __init__(self, path: Path):
        self.fh = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.fh.write("[\n")
        self.first = True
        self.count = 0

    def add(self, last, first, middle, dob) -> None:
        entry = {"last": last, "first": first, "middle": middle,
                 "birth_date": dob.isoformat() if dob else None}
        self.fh.write(("" if self.first else ",\n") + json.dumps(entry, ensure_ascii=False))
        self.first = False
        self.count += 1

    def close(self) -> None:
        self.fh.write("\n]\n")
        self.fh.close()


def secret_from_env(name: str) -> bytes:
    value = os.environ.get(name)
    if not value:
        raise GeneratorError(
            f"the person-key secret is read from the environment variable {name}, which is not set")
    return value.encode("utf-8")


def count(rng: random.Random, mean: float) -> int:
    """An integer with the given mean: the whole part plus one with the fractional probability."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def write_config(out: Path, units: list[str], env: str) -> None:
    lines = [
        "# Configuration over this generated drop (file:// sources; paths relative to this file).",
        "warehouse: duckdb:///warehouse.duckdb",
        "landing_dir: landing",
        f"person_key_secret_env: {env}",
        "sources:",
        "  - name: tracs-isp",
        "    kind: tracs",
        f"    url: file:tracs/{ISP_ORI}",
    ]
    for u in units:
        lines += [f"  - name: meg-{u.lower()}", "    kind: meg", f"    unit: {u}",
                  f"    url: file:meg/{u}"]
    (out / "deflect.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_manifest(out: Path, head: dict, ledger: Ledger, tail: dict) -> None:
    """manifest.json, with the defects copied line by line from the ledger's stream."""
    path = out / "manifest.json"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("{\n")
        fh.writelines(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n" for k, v in head.items())
        fh.write('"defects": [')
        with open(ledger.defects_path, encoding="utf-8") as src:
            fh.writelines(("\n  " if i == 0 else ",\n  ") + line.rstrip("\n") for i, line in enumerate(src))
        fh.write("\n],\n")
        items = list(tail.items())
        for i, (k, v) in enumerate(items):
            sep = ",\n" if i < len(items) - 1 else "\n"
            fh.write(f"{json.dumps(k)}: ")
            json.dump(v, fh, ensure_ascii=False, indent=1)  # streamed: no second copy as a string
            fh.write(sep)
        fh.write("}\n")
    ledger.defects_path.unlink()


def generate(config: GeneratorConfig, out_dir: Path, progress: bool = False) -> dict:
    """Write the drop for `config` into `out_dir` and return the manifest."""
    write_drop(config, out_dir, progress)
    with open(Path(out_dir) / "manifest.json", encoding="utf-8") as fh:
        return json.load(fh)


def write_drop(config: GeneratorConfig, out_dir: Path, progress: bool = False) -> dict:
    """Write the drop and manifest.json; returns the manifest's `stats` only (a large run's
    manifest is big: the command line does not need it in memory)."""
    secret = secret_from_env(config.person_key_secret_env)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise GeneratorError(f"{out} is not empty: generate into a new directory")
    seed = config.seed
    people = PeopleWriter(out / "people.json")
    world = World(config, people.add)
    defects = DefectPlanner(random.Random(f"{seed}:defects"), config.defect_rate)
    deliveries = truth.Deliveries()
    ledger = Ledger(out)
    tracs = TracsNight(world, deliveries, ledger, defects, out, random.Random(f"{seed}:tracs"))
    meg = MegNight(world, deliveries, ledger, defects, out, random.Random(f"{seed}:meg"))
    rng = random.Random(f"{seed}:schedule")
    units = world.units
    days = [config.start + i * DAY for i in range((config.end - config.start).days + 1)]
    large = Counter(days[int((k + 0.5) * len(days) / config.large_attachments)]
                    for k in range(config.large_attachments))
    corrections = {(days[len(days) // 3], rng.choice(units)),
                   (days[(2 * len(days)) // 3], rng.choice(units))}
    pending_units = rng.sample(units, 2) if config.pending_at_end else []
    p_originated = config.forms_per_day * config.deflection_share * 0.25 / len(units)
    p_plain = config.forms_per_day * 0.05 / len(units)

    def unit_cases(day: dt.date, warmup: bool) -> None:
        for unit in units:
            for _ in range(count(rng, p_originated * (0.6 if warmup else 1))):
                world.meg_originated(unit, day, plan=day >= config.start - 20 * DAY)
            if not warmup:
                for _ in range(count(rng, p_plain)):
                    world.plain_case(unit, day)

    for i in range(config.warmup_days, 0, -1):
        unit_cases(config.start - i * DAY, warmup=True)
    forms = 0
    bar = tqdm(total=len(days), disable=not progress, file=sys.stderr, unit="night",
               desc="generating")
    for day in days:
        last = day == config.end
        forms += tracs.run(day, last, large.get(day, 0))
        unit_cases(day, warmup=False)
        for unit in units:
            pending = None
            if last and unit in pending_units:
                pending = "no-done" if unit == pending_units[0] else "stale-done"
            correct = (day, unit) in corrections or rng.random() < 0.002
            meg.run(unit, day, pending, correct)
        bar.update(1)
        bar.set_postfix(forms=forms, refresh=False)
    bar.close()
    people.close()
    ledger.close()
    as_of = config.effective_as_of
    rep, detail = truth.reporting(world, deliveries, secret, as_of)
    head = {
        "generator": config.describe(),
        "as_of": as_of.isoformat(),
        "person_key_secret_env": config.person_key_secret_env,
        "units": units,
        "latin1_units": sorted(world.latin1_units),
        "stats": {"field_reports_written": forms, "forms_created": world.form_count,
                  "people": people.count, "files": len(ledger.files),
                  "defects_by_code": dict(sorted(ledger.defect_counts.items())),
                  "deflections": len(rep["deflection"])},
        "files": sorted(ledger.files, key=lambda f: f["path"]),
    }
    write_config(out, units, config.person_key_secret_env)
    write_manifest(out, head, ledger, {"reporting": rep, "deflection_members": detail})
    # the generator's own files carry a fixed time too, so a seed reproduces the drop exactly
    stamp = epoch(dt.datetime.combine(config.end + DAY, dt.time(6, 0)))
    for name in ("people.json", "deflect.yaml", "manifest.json"):
        os.utime(out / name, (stamp, stamp))
    return head["stats"]
