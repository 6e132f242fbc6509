"""The bench's input: drops written by `deflect generate`, cached, and views over some of their
nights.

One generated drop serves a whole growth curve: the nightly set at k× is the first k nights of a
drop of consecutive nights (k × the TraCS forms, k × every MEG unit's cumulative file), hard-linked
into a directory of its own with the generator's deflect.yaml beside it. A single night of 10× the
forms would be one TraCS file of about 7 GB, over the configured 2 GiB file limit: it would measure
the F07 quarantine, not the pipeline.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

MARKER = "bench-drop.json"  # written last: a drop without it is incomplete and regenerated
PERSON_KEY_ENV = "DEFLECT_PERSON_KEY"


@dataclass(frozen=True)
class DropSpec:
    """Options of one `deflect generate` run."""

    name: str
    start: str  # first night, YYYY-MM-DD
    nights: int
    forms_per_day: int
    attachment_kb: int
    seed: int = 7
    gzip_share: float = 0.0
    defect_rate: float = 0.02

    @property
    def end(self) -> str:
        return (dt.date.fromisoformat(self.start) + dt.timedelta(days=self.nights - 1)).isoformat()

    @property
    def as_of(self) -> str:
        return (dt.date.fromisoformat(self.end) + dt.timedelta(days=1)).isoformat()

    def night(self, i: int) -> dt.date:
        return dt.date.fromisoformat(self.start) + dt.timedelta(days=i)


def nightly_spec(forms: int = 5000, attachment_kb: int = 100, nights: int = 10) -> DropSpec:
    # Plain files (no gzip): every night then costs the same per byte, so the growth curve shows
    # the pipeline's scaling rather than which nights happened to be compressed.
    return DropSpec(f"nightly-{forms}f-{attachment_kb}kb-{nights}n", "2026-10-01", nights, forms,
                    attachment_kb)


def backfill_spec(forms_total: int = 1_000_000, nights: int = 365, attachment_kb: int = 4) -> DropSpec:
    # the generator's default share of gzipped TraCS files: a year of archive is mixed.
    # A calendar year: the generator numbers forms, reports and MEG cases per calendar year, so
    # the year copied k years back (workload `full`, bench/seed.py) is numbered as that year
    # would be, and the nightly set's first night (2026-10-01) meets none of its numbers.
    per_night = round(forms_total / nights)
    return DropSpec(f"backfill-{forms_total}f-{attachment_kb}kb-{nights}n", "2025-01-01", nights,
                    per_night, attachment_kb, gzip_share=0.2)


# bytes per TraCS form of a plain file with 100 KB attachments (measured: 703 MB for 4,822 forms)
BYTES_PER_FORM_100KB = 146_000


def bigfile_spec(gb: float) -> DropSpec:
    """One night whose TraCS export is one file of about `gb` GB (no defects: nothing splits it)."""
    # aim a little over: the generator varies a night by +-10% and the file must reach `gb`
    forms = max(1, round(gb * 1.1e9 / BYTES_PER_FORM_100KB))
    return DropSpec(f"bigfile-{gb:g}gb", "2026-10-01", 1, forms, 100, defect_rate=0.0)


@dataclass
class DataFile:
    path: Path  # absolute
    rel: str  # relative to the drop: tracs/<ORI>/<name> or meg/<UNIT>/<name>
    source: str
    kind: str  # tracs | meg
    size: int
    records: int  # FieldReports or Cases written into it
    night: dt.date
    companion: str | None  # the sidecar (.sha256) or marker (.done) beside it


@dataclass
class Workload:
    """A directory with the generator's layout and deflect.yaml: what one measurement reads."""

    name: str
    root: Path
    spec: DropSpec
    nights: int
    files: list[DataFile]
    first: int = 0  # index of the view's first night in the drop

    @property
    def config(self) -> Path:
        return self.root / "deflect.yaml"

    @property
    def as_of(self) -> str:
        return (self.spec.night(self.first + self.nights - 1) + dt.timedelta(days=1)).isoformat()

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def forms(self) -> int:
        return sum(f.records for f in self.files if f.kind == "tracs")

    def describe(self) -> dict:
        return {
            "name": self.name, "drop": self.spec.name, "nights": self.nights,
            "files": len(self.files), "bytes": self.bytes, "mb": round(self.bytes / 1e6, 1),
            "tracs_forms": self.forms, "meg_cases": self.records - self.forms,
            "largest_file_mb": round(max((f.size for f in self.files), default=0) / 1e6, 1),
            "generator": asdict(self.spec),
        }


def deflect_executable() -> str:
    """The `deflect` script of the running environment (`uv run` puts it beside python)."""
    candidate = Path(sys.executable).parent / "deflect"
    return str(candidate) if candidate.exists() else "deflect"


def generate(spec: DropSpec, data_dir: Path, log=print) -> Path:
    """The drop of `spec` under data_dir/drops/, generated once and reused."""
    out = data_dir / "drops" / spec.name
    marker = out / MARKER
    if marker.exists() and json.loads(marker.read_text()) == asdict(spec):
        return out
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault(PERSON_KEY_ENV, "bench-person-key")  # synthetic people: any secret will do
    cmd = [deflect_executable(), "generate", "--out", str(out), "--start", spec.start,
           "--end", spec.end, "--forms-per-day", str(spec.forms_per_day),
           "--attachment-kb", str(spec.attachment_kb), "--seed", str(spec.seed),
           "--gzip-share", str(spec.gzip_share), "--defect-rate", str(spec.defect_rate),
           "--no-pending", "--no-progress"]
    log(f"generating {spec.name} ({spec.nights} nights x {spec.forms_per_day} forms)...")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"deflect generate failed: {done.stderr.strip()[-2000:]}")
    log("  " + done.stdout.strip())
    marker.write_text(json.dumps(asdict(spec)))
    # gigabytes of dirty pages are written back in the background for a while: wait for it
    # here rather than let it slow down whichever measurement comes first
    os.sync()
    return out


def _files(drop: Path, spec: DropSpec) -> list[DataFile]:
    manifest = json.loads((drop / "manifest.json").read_text(encoding="utf-8"))
    out = []
    for f in manifest["files"]:
        rel = f["path"]
        if not f.get("complete") or rel.startswith("superseded/"):
            continue
        kind = "tracs" if rel.startswith("tracs/") else "meg"
        export = dt.date.fromisoformat(f["export_date"])
        # TraCS exports a night's forms at 01:30 the next morning; MEG names the night itself
        night = export - dt.timedelta(days=1) if kind == "tracs" else export
        path = drop / rel
        companion = rel + (".sha256" if kind == "tracs" else ".done")
        out.append(DataFile(path, rel, f["source"], kind, path.stat().st_size,
                            int(f.get("forms") or f.get("cases") or 0), night,
                            companion if (drop / companion).exists() else None))
    return sorted(out, key=lambda d: (d.night, d.rel))


def view(spec: DropSpec, drop: Path, nights: int, data_dir: Path, name: str,
         first: int = 0) -> Workload:
    """`nights` nights of a drop from its night `first` on (the first ones by default),
    hard-linked into data_dir/views/<name>."""
    nights = min(nights, spec.nights - first)
    start, last = spec.night(first), spec.night(first + nights - 1)
    chosen = [f for f in _files(drop, spec) if start <= f.night <= last]
    root = data_dir / "views" / name
    marker = root / MARKER
    key = {"drop": spec.name, "first": first, "nights": nights, "files": [f.rel for f in chosen]}
    if not (marker.exists() and json.loads(marker.read_text()) == key):
        if root.exists():
            shutil.rmtree(root)
        for f in chosen:
            for rel in (f.rel, f.companion):
                if rel is None:
                    continue
                dest = root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(drop / rel, dest)
                except OSError:  # another file system: copy (keeps the mtime the listing needs)
                    shutil.copy2(drop / rel, dest)
        # every source of the drop, even one without a file in these nights: the same config
        shutil.copy2(drop / "deflect.yaml", root / "deflect.yaml")
        for d in (drop / "tracs").iterdir():
            (root / "tracs" / d.name).mkdir(parents=True, exist_ok=True)
        for d in (drop / "meg").iterdir():
            (root / "meg" / d.name).mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(key))
    files = [DataFile(root / f.rel, f.rel, f.source, f.kind, f.size, f.records, f.night,
                      f.companion) for f in chosen]
    return Workload(name, root, spec, nights, files, first)


def largest_file_view(spec: DropSpec, drop: Path, data_dir: Path, name: str) -> Workload:
    """A view holding only the largest TraCS file of a drop (and its sidecar)."""
    files = [f for f in _files(drop, spec) if f.kind == "tracs"]
    big = max(files, key=lambda f: f.size)
    root = data_dir / "views" / name
    if root.exists():
        shutil.rmtree(root)
    for rel in (big.rel, big.companion):
        if rel:
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(drop / rel, dest)
    lines = [line for line in (drop / "deflect.yaml").read_text().splitlines()]
    # only the TraCS source: the header and the first source entry of the generator's config
    cut = next(i for i, line in enumerate(lines) if line.strip().startswith("- name: meg-"))
    (root / "deflect.yaml").write_text("\n".join(lines[:cut]) + "\n")
    f = DataFile(root / big.rel, big.rel, big.source, big.kind, big.size, big.records, big.night,
                 big.companion)
    return Workload(name, root, spec, 1, [f])
