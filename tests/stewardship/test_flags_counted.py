"""The report's W-flags counted in the warehouse, on both backends: per unit and code the count
of every deflection carrying the flag, and the first ids in id order, as reading every flagged
deflection out and counting in Python gives them."""

import random

import pandas as pd
import pytest

from stewardship import data
from tests.warehouse.conftest import migrated_url, reset  # noqa: F401 - the fixture
from warehouse import connect

CODES = ("W01", "W05", "W11", "W15", "W17")
UNITS = ("SIEG", "BATF", "UNATTRIBUTED")


@pytest.fixture
def flagged(migrated_url):  # noqa: F811 - the imported fixture
    rng = random.Random(18)
    rows = []
    for n in range(400):
        flags = ",".join(sorted(rng.sample(CODES, rng.randint(0, 3))))
        rows.append((f"D{rng.getrandbits(96):024x}", rng.choice(UNITS), flags))
    rows.append((f"D{1:024x}", "SIEG", None))
    with connect(migrated_url) as wh:
        reset(wh)
        wh.insert_frame(
            "marts.fct_deflection",
            pd.DataFrame(rows, columns=["deflection_id", "approving_unit_code", "flags"]),
            ["deflection_id", "approving_unit_code", "flags"])
    return migrated_url, rows


def expected(rows) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for deflection_id, unit, flags in rows:
        for code in (flags or "").split(","):
            if code:
                out.setdefault((unit, code), []).append(deflection_id)
    return {k: sorted(v) for k, v in out.items()}


def test_flag_counts_and_first_ids_are_those_of_every_flagged_deflection(flagged):
    url, rows = flagged
    want = expected(rows)
    with connect(url) as wh:
        counts = data.flag_counts(wh)
        got = {(u, c): n for u, c, n in zip(counts["unit"], counts["code"],
                                            counts["deflections"], strict=True)}
        assert got == {k: len(v) for k, v in want.items()}
        for limit in (1, 7, 1000):
            assert data.flagged_ids(wh, CODES, limit) == {k: v[:limit] for k, v in want.items()}
        assert data.flagged_ids(wh, ["W05"], 3) == {
            k: v[:3] for k, v in want.items() if k[1] == "W05"}
        assert data.flagged_ids(wh, [], 3) == {}
