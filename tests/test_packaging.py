"""The wheel installs generic top-level names (`schemas`, `warehouse`, ...) into site-packages.

That is safe only while no other distribution of the image installs the same name: pip would
let one overwrite the other's files without a word. The image's packages are exactly uv.lock
(docs/operations.md, Production), which is this environment, so this test
(a) reads the top-level names every installed distribution provides and fails naming the one
that takes one of ours, and (b) builds the wheel and checks it holds our packages and nothing
else (no tests, devtools, bench, dags or scripts).
"""
from __future__ import annotations

import importlib.metadata as md
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"schemas", "warehouse", "ingestion", "transforms", "adapters", "generator",
        "stewardship", "publication", "deflect", "workbench"}
OWN_DISTRIBUTION = "deflect"


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _names_from_files(files) -> set[str]:
    """Top-level import names from a distribution's RECORD: packages (a directory holding an
    `__init__.py` directly) and single-file modules at the top of site-packages."""
    names = set()
    for f in files or ():
        parts = PurePosixPath(str(f)).parts
        if not parts or parts[0] in ("..", "/") or parts[0].endswith((".dist-info", ".data")):
            continue
        if len(parts) == 1 and parts[0].endswith(".py"):
            names.add(parts[0][:-3])
        elif len(parts) == 2 and parts[1] == "__init__.py":
            names.add(parts[0])
        elif len(parts) == 1 and parts[0].endswith((".so", ".pyd")):
            names.add(parts[0].split(".")[0])  # a compiled top-level module
    return names


def top_level_names(dist: md.Distribution) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text is not None:
        # entries may be paths ("google/protobuf"); the first part is what lands at the top
        return {line.strip().split("/")[0] for line in text.splitlines() if line.strip()}
    return _names_from_files(dist.files)


def test_names_from_files_reads_packages_and_modules():
    files = ["pkg/__init__.py", "pkg/sub/__init__.py", "mod.py", "_c.cpython-311-x86_64.so",
             "other/data.txt", "x-1.0.dist-info/RECORD", "../../bin/tool"]
    assert _names_from_files(files) == {"pkg", "mod", "_c"}


def test_no_installed_distribution_provides_our_top_level_names():
    taken: dict[str, list[str]] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"] or "?"
        if _normalized(name) == OWN_DISTRIBUTION:
            continue
        for top in top_level_names(dist) & OURS:
            taken.setdefault(top, []).append(f"{name} {dist.version}")
    assert not taken, "top-level names of this project also installed by: " + "; ".join(
        f"{top!r} by {', '.join(sorted(dists))}" for top, dists in sorted(taken.items()))


def test_the_wheel_lists_exactly_our_packages():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(declared["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]) == OURS


def test_the_built_wheel_holds_our_packages_and_nothing_else(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: cannot build the wheel")
    # --offline: the build backend (hatchling) must come from uv's cache; without the network
    # a missing backend is a skip with uv's reason, not a failure of the packaging
    done = subprocess.run([uv, "build", "--wheel", "--offline", "-o", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"could not build the wheel offline (build backend not cached?): {reason}")
    wheels = list(tmp_path.glob("*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as zf:
        tops = {PurePosixPath(n).parts[0] for n in zf.namelist()}
    dist_info = {t for t in tops if t.endswith((".dist-info", ".data"))}
    assert tops - dist_info == OURS
