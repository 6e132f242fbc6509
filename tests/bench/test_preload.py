"""A stage's imports are made before its clock starts; a misspelt module must fail here, not
turn into a slow first call inside a measured stage."""
from __future__ import annotations

import importlib

import pytest

from bench.child import PRELOAD, STAGES


@pytest.mark.parametrize("stage", sorted(PRELOAD))
def test_every_preloaded_module_imports(stage):
    assert stage in STAGES
    for name in PRELOAD[stage]:
        importlib.import_module(name)


def test_end_to_end_keeps_its_imports():
    assert "e2e" not in PRELOAD  # what a user of `deflect run` pays is part of its time


def test_the_load_stage_connects_without_importing_the_driver(pg_server_url):
    """The bare COPY the load is compared with starts its clock connected: the load's clock
    must not hold the driver's import (a lazy import of `warehouse.connect`)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from bench.child import _preload\n"
            "_preload('load')\n"
            "before = set(sys.modules)\n"
            "from warehouse import connect\n"
            f"connect({pg_server_url!r}).close()\n"
            "print(sorted(m for m in set(sys.modules) - before if m.startswith('psycopg')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
