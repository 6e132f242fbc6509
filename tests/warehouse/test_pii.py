"""No names, birth dates, narratives or attachments anywhere in the warehouse."""
import datetime as dt
import json

import pytest

from devtools.scan import find_strings
from tests.warehouse.helpers import (
    STAGING,
    assert_no_pii,
    merge,
    people_needles,
    tracs_form,
    write_batch,
)
from tests.warehouse.test_refresh import fake_build
from warehouse import load_batch, refresh

NAMES = ["Núñez", "José", "Strauß", "Anna-Lena", "1982-08-08"]


def test_scan_finds_a_planted_name(wh, tmp_path):
    rows = tracs_form("FR-26-0000001", 1)
    rows["stg_tracs__field_report"][0]["officer_badge"] = "núñez"
    rows["stg_tracs__individual"][0]["role"] = "ANNA-LENA"  # case does not hide a name
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    hits = find_strings(wh, NAMES)
    assert {(h.schema, h.table, h.column) for h in hits} == {
        ("staging", "stg_tracs__field_report", "officer_badge"),
        ("staging", "stg_tracs__individual", "role")}
    with pytest.raises(AssertionError, match="officer_badge"):
        assert_no_pii(wh, NAMES)


def test_hand_made_batch_leaves_no_personal_data(wh, tmp_path):
    rows = merge(tracs_form("FR-26-0000001", 1), tracs_form("FR-26-0000002", 1, line=40))
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=dt.date(2026, 11, 1), build=fake_build)
    assert_no_pii(wh, NAMES)


def test_people_json_reader(tmp_path):
    path = tmp_path / "people.json"
    path.write_text(json.dumps([{"last": "Núñez", "first": "José", "middle": None,
                                 "birth_date": "1982-08-08"}], ensure_ascii=False),
                    encoding="utf-8")
    assert people_needles(path) == ["Núñez", "José", "1982-08-08", "NUNEZ", "JOSE"]


def test_whole_words_only(wh, tmp_path):
    rows = tracs_form("FR-26-0000001", 1)
    rows["stg_tracs__field_report"][0]["incident_type"] = "evaluation pending"
    rows["stg_tracs__field_report"][0]["officer_badge"] = "sgt. anna lena 1982-08-08"
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    hits = find_strings(wh, ["Eva", "Anna-Lena", "1982-08-08"])
    assert {(h.column, h.needle_index) for h in hits} == {("officer_badge", 1),
                                                          ("officer_badge", 2)}
