"""MEG record rules and F05, each on its own."""
from __future__ import annotations

from lxml import etree

from adapters.meg_reports import MegAdapter
from adapters.meg_reports.rules import (
    check_b03,
    check_b04_deflection_subject,
    check_b04_subject_id,
    check_b05,
)
from deflect.core.config import SourceConfig
from ingestion.transport import RemoteEntry

NS = "urn:il:meg:rms:case-activity"


def case(subjects=(1,), deflections=(1,), number="SIEG-2026-0001"):
    subs = "".join(f'<Subject SubjectId="{s}"/>' for s in subjects)
    defs = "".join(f'<Deflection SubjectId="{d}"/>' for d in deflections)
    return etree.fromstring(f'<Case xmlns="{NS}" CaseNumber="{number}"><Subjects>{subs}</Subjects>'
                            f"<Deflections>{defs}</Deflections></Case>")


def test_b03():
    assert check_b03(case((1, 2), (2,))) == []
    (f,) = check_b03(case((1,), (1, 3)))
    assert f.code == "B03" and "3" in f.message


def test_b04_subject_and_deflection_duplicates():
    assert check_b04_subject_id(case((1, 2))) == []
    assert [f.code for f in check_b04_subject_id(case((1, 2, 1)))] == ["B04"]
    assert check_b04_deflection_subject(case((1, 2), (1, 2))) == []
    assert [f.code for f in check_b04_deflection_subject(case((1,), (1, 1)))] == ["B04"]


def test_b05():
    assert check_b05(case(number="SIEG-2026-0001"), "SIEG") == []
    assert [f.code for f in check_b05(case(number="MANS-2026-0001"), "SIEG")] == ["B05"]
    # a prefix of another unit's code is not enough: the unit must be followed by '-'
    assert [f.code for f in check_b05(case(number="SIEGX-2026-0001"), "SIEG")] == ["B05"]


def test_f05_unit_date_and_configured_unit():
    a = MegAdapter()
    src = SourceConfig(name="m", kind="meg", url="file:///x", unit="SIEG")
    attrs = {"Unit": "SIEG", "ExportDate": "2027-01-20"}
    assert a.check_file_name("CaseActivity_SIEG_20270120.xml", attrs, src) == []
    assert len(a.check_file_name("CaseActivity_SIEG_20270119.xml", attrs, src)) == 1
    other = {"Unit": "MANS", "ExportDate": "2027-01-20"}
    assert len(a.check_file_name("CaseActivity_MANS_20270120.xml", other, src)) == 1
    assert len(a.check_file_name("CaseActivity_SIEG_20270120.xml", other, src)) == 2


def test_completion_marker_must_not_be_older_than_the_data():
    a = MegAdapter()
    data = RemoteEntry("CaseActivity_SIEG_20270120.xml", 10, 1000)
    assert not a.is_complete(data, {data.name: data})
    old = RemoteEntry(data.name + ".done", 0, 999)
    assert not a.is_complete(data, {data.name: data, old.name: old})
    for t in (1000, 1001):
        done = RemoteEntry(data.name + ".done", 0, t)
        assert a.is_complete(data, {data.name: data, done.name: done})
