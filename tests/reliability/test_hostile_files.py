"""The hostile-input corpus (tests/reliability/corpus.py) through `deflect run`, as a real
process: every case ends in its code, the good file and the harmless oddities load, nothing is
resolved or leaked, and the night stays within its time and memory."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.scan import find_strings
from tests.reliability import corpus
from warehouse import connect

pytestmark = pytest.mark.slow

PEAK_MB = 500  # the project's memory goal, for the whole run
SECONDS = 240  # a night of 21 tiny files; before the flood fix one case alone took minutes


_MEASURED = """
import resource, subprocess, sys
proc = subprocess.run([sys.executable, "-c",
                       "import sys; from deflect.cli import main; sys.exit(main())", *sys.argv[1:]])
print("PEAK-KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(proc.returncode)
"""


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    expected = corpus.write(out)
    config = out / "deflect.yaml"
    config.write_text(
        "warehouse: duckdb:///warehouse.duckdb\nlanding_dir: landing\n"
        "person_key_secret_env: DEFLECT_PERSON_KEY\n"
        f"max_file_bytes: {corpus.MAX_FILE_BYTES}\n"
        "sources:\n  - name: tracs-isp\n    kind: tracs\n    url: file://drop\n",
        encoding="utf-8")
    started = time.monotonic()
    # run through a parent of its own, whose RUSAGE_CHILDREN is this run's peak alone (the run
    # and its workers), whatever else this test process started before
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, "run", "--config", str(config),
         "--as-of", "2026-11-26", "--workers", "2"],
        capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.monotonic() - started
    peak_kb = int(proc.stdout.rsplit("PEAK-KB ", 1)[1])
    with connect(f"duckdb://{out / 'warehouse.duckdb'}", read_only=True) as wh:
        ledger = {n: s for n, s in wh.query(
            "SELECT remote_name, status FROM meta.file_ledger")}
        codes: dict[str, set] = {}
        for n, c, level in wh.query("SELECT file_name, code, level FROM meta.finding"):
            codes.setdefault(n, set()).add((level, c))
        leaks = find_strings(wh, [corpus.SECRET_MARKER])
    return dict(out=out, expected=expected, proc=proc, elapsed=elapsed,
                peak_mb=peak_kb / 1024, ledger=ledger, codes=codes, leaks=leaks)


def test_the_night_completes(night):
    assert night["proc"].returncode == 0, night["proc"].stderr[-2000:]


def test_every_case_ends_in_its_code(night):
    wrong = {}
    for fname, case in night["expected"].items():
        status = night["ledger"].get(fname)
        file_codes = {c for level, c in night["codes"].get(fname, ()) if level == "file"}
        record_codes = {c for level, c in night["codes"].get(fname, ()) if level == "record"}
        if case.get("ignored"):
            ok = status is None and not file_codes
        elif case.get("loaded"):
            ok = status == "loaded" and record_codes == set(case.get("record_codes", []))
        else:
            ok = status == "quarantined" and len(file_codes) == 1 and file_codes <= set(
                case["codes"])
        if not ok:
            wrong[case["what"]] = (status, sorted(file_codes), sorted(record_codes))
    assert wrong == {}


def test_nothing_was_resolved_or_leaked(night):
    assert night["leaks"] == []
    assert corpus.SECRET_MARKER not in night["proc"].stdout + night["proc"].stderr
    for path in (night["out"] / "reports").rglob("*"):
        if path.is_file():
            assert corpus.SECRET_MARKER.encode() not in path.read_bytes(), path


def test_time_and_peak_memory_stay_within_budget(night):
    assert night["elapsed"] < SECONDS, night["elapsed"]
    assert night["peak_mb"] < PEAK_MB, night["peak_mb"]


def test_the_landing_area_holds_no_partial_download(night):
    assert not list((night["out"] / "landing").rglob(".part-*"))
    big = [p for p in (night["out"] / "landing").rglob("*") if p.is_file()
           and p.stat().st_size > corpus.MAX_FILE_BYTES + 1]
    assert big == []


def test_the_corpus_script_runs_alone(tmp_path):
    subprocess.run([sys.executable, "-m", "tests.reliability.corpus", str(tmp_path / "c")],
                   check=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    expected = json.loads((tmp_path / "c" / "expected.json").read_text())
    assert len(expected) == len(corpus.cases(tmp_path / "x"))


def test_run_landing_and_report_areas_are_not_world_readable(night):
    loose = []
    for area in ("landing", "work", "reports"):
        for path in [night["out"] / area, *(night["out"] / area).rglob("*")]:
            if path.is_symlink():
                continue
            mode = path.stat().st_mode & 0o777
            if mode & 0o007 or mode & 0o020:
                loose.append((str(path.relative_to(night["out"])), oct(mode)))
    assert loose == []
