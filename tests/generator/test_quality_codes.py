"""Every complete file passes its schema and rules, except the recorded defects, which fail with
exactly the recorded code (checked by the independent checker in checker.py)."""
from collections import Counter

import pytest

from generator.defects import FILE_CODES, RECORD_CODES
from tests.generator.checker import check_file


def kind_of(entry):
    return "tracs" if entry["source"] == "tracs-isp" else "meg"


@pytest.fixture(scope="module")
def checked(small_drop):
    out, manifest = small_drop
    results = {}
    for entry in manifest["files"]:
        if entry["complete"]:
            results[entry["path"]] = check_file(out / entry["path"], kind_of(entry))
    return results


def test_every_complete_file_is_clean_or_recorded(small_drop, checked):
    _, manifest = small_drop
    recorded_records = Counter()
    for d in manifest["defects"]:
        if d["level"] == "record":
            recorded_records[(d["path"], d["code"], d["record_id"])] += 1
    found_records = Counter()
    for entry in manifest["files"]:
        if not entry["complete"]:
            continue
        res = checked[entry["path"]]
        assert ([res.file_code] if res.file_code else []) == entry["codes"], entry["path"]
        for (code, rid), n in res.records.items():
            found_records[(entry["path"], code, rid)] += n
    assert found_records == recorded_records


@pytest.mark.parametrize("code", sorted(FILE_CODES))
def test_file_code_really_fails(small_drop, checked, code):
    _, manifest = small_drop
    defects = [d for d in manifest["defects"] if d["code"] == code]
    assert defects, f"no {code} defect generated"
    for d in defects:
        assert d["level"] == "file" and d["record_id"] is None
        assert checked[d["path"]].file_code == code, d


@pytest.mark.parametrize("code", sorted(RECORD_CODES))
def test_record_code_really_fails(small_drop, checked, code):
    _, manifest = small_drop
    defects = [d for d in manifest["defects"] if d["code"] == code]
    assert defects, f"no {code} defect generated"
    for d in defects:
        res = checked[d["path"]]
        assert d["level"] == "record" and res.file_code is None
        assert res.records[(code, d["record_id"])] >= 1, d


def test_recorded_defects_name_complete_files(small_drop):
    _, manifest = small_drop
    complete = {e["path"] for e in manifest["files"] if e["complete"]}
    assert {d["path"] for d in manifest["defects"]} <= complete


def test_clean_drop_with_16_mb_attachments_validates(tmp_path):
    import datetime as dt

    from generator import GeneratorConfig, generate

    m = generate(GeneratorConfig(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 5), forms_per_day=10,
                                 attachment_kb=1, large_attachments=2, defect_rate=0, warmup_days=10),
                 tmp_path)
    for e in m["files"]:
        if e["complete"]:
            res = check_file(tmp_path / e["path"], kind_of(e))
            assert res.file_code is None and not res.records, e["path"]
