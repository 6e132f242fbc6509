"""The refresh reads only the records that can count (their current version carries a deflection
row): the marts must equal those built from every current row, on both backends, over a
generated drop loaded in two nights, while far fewer rows are read."""
from __future__ import annotations

import pytest

from adapters.registry import staging_tables
from deflect.core.units import load_units
from deflect.pipeline import build_marts
from generator import generate
from tests.deflect.test_already_accepted import DROP, _two_nights
from transforms.current import RECORDS_WITH_ROWS_IN
from warehouse import connect, current_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    out = tmp_path_factory.mktemp("drop")
    return out, generate(DROP, out)

MARTS = ("deflection", "deflection_flag", "deflection_counts", "followup_compliance",
         "evaluation")


def _rows(frame) -> list[tuple]:
    cols = sorted(frame.columns)
    return sorted((tuple(str(v) for v in row) for row in frame[cols].itertuples(index=False)),
                  key=repr)


def test_marts_from_the_records_that_can_count_equal_those_from_every_record(
        drop, tmp_path, warehouse_url):
    url = _two_nights(drop[0], tmp_path / "run", warehouse_url)
    units = load_units(None)
    with connect(url, read_only=True) as wh:
        every = current_rows(wh, staging_tables())
        counted = current_rows(wh, staging_tables(), records_with_rows_in=RECORDS_WITH_ROWS_IN)
    full = build_marts(every, units, DROP.effective_as_of)
    part = build_marts(counted, units, DROP.effective_as_of)
    for name in MARTS:
        assert _rows(getattr(part, name)) == _rows(getattr(full, name)), name
    assert len(full.deflection) > 20
    # most forms carry no deflection: they are no longer read
    forms, read = len(every["stg_tracs__field_report"]), len(counted["stg_tracs__field_report"])
    assert read < forms / 2
    assert len(counted["stg_tracs__individual"]) < len(every["stg_tracs__individual"]) / 2
