"""A small generated drop and a clean run over it, made once for the reliability tests (tests
that change the drop work on a copy)."""
from __future__ import annotations

import pytest

from tests.reliability.helpers import config_for, deflect, make_drop, snapshot, warehouse_of


@pytest.fixture(scope="session")
def drop(tmp_path_factory):
    return make_drop(tmp_path_factory.mktemp("reliability") / "drop")


@pytest.fixture(scope="session")
def clean(drop, tmp_path_factory):
    """The warehouse of a clean run over the drop, table by table."""
    config = config_for(drop, tmp_path_factory.mktemp("clean"))
    deflect(config, check_rc=0)
    return snapshot(warehouse_of(config))
