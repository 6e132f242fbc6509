"""The `deflect` console command exits without the interpreter's last walk over every object;
`main`, which tests call in-process, leaves the collector alone."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from deflect.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_console_script_is_the_freezing_entry_point():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["deflect"] == "deflect.cli:console"


def test_console_freezes_what_is_left_and_keeps_the_exit_status():
    code = ("import gc, json\n"
            "from deflect import cli\n"
            "cli.main = lambda argv=None: 3\n"
            "before = gc.get_freeze_count()\n"
            "status = cli.console([])\n"
            "print(json.dumps([status, before, gc.get_freeze_count()]))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=REPO, check=True)
    status, before, after = json.loads(out.stdout)
    assert status == 3 and before == 0 and after > 1000


def test_main_leaves_the_collector_alone():
    before = gc.get_freeze_count()
    assert main(["summary", "--config", "/nonexistent/deflect.yaml"]) == 2
    assert gc.get_freeze_count() == before
