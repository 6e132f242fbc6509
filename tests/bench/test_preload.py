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
