"""TraCS record rules and F05, each on its own."""
from __future__ import annotations

from lxml import etree

from adapters.tracs import TracsAdapter
from adapters.tracs.rules import check_b01, check_b02, check_b04_individual_seq
from deflect.core.config import SourceConfig

NS = "urn:il:isp:tracs:export"
SRC = SourceConfig(name="t", kind="tracs", url="file:///x")


def form(*individuals: str):
    return etree.fromstring(
        f'<FieldReport xmlns="{NS}" formNumber="FR-26-0000001"><individuals>'
        + "".join(individuals) + "</individuals></FieldReport>")


def ind(seq, disposition, deflection=False):
    d = "<deflection><deflectionPathway>SR</deflectionPathway></deflection>" if deflection else ""
    return (f'<individual seq="{seq}"><individualDisposition>{disposition}</individualDisposition>'
            f"{d}</individual>")


def test_b01():
    assert check_b01(form(ind(1, "CD", True), ind(2, "AR"))) == []
    (f,) = check_b01(form(ind(1, "AR"), ind(2, "CD")))
    assert f.code == "B01" and "seq 2" in f.message and f.path.endswith("[@seq='2']")


def test_b02():
    assert check_b02(form(ind(1, "CD", True))) == []
    (f,) = check_b02(form(ind(1, "WA", True)))
    assert f.code == "B02" and "WA" in f.message
    (f,) = check_b02(form(ind(1, "", True)))
    assert "blank" in f.message


def test_b04_individual_seq():
    assert check_b04_individual_seq(form(ind(1, "AR"), ind(2, "AR"))) == []
    (f,) = check_b04_individual_seq(form(ind(1, "AR"), ind(2, "AR"), ind(1, "CD", True)))
    assert f.code == "B04" and "seq 1" in f.message


def test_f05_name_against_document():
    a = TracsAdapter()
    attrs = {"agencyORI": "IL0849800", "createdAt": "2026-11-25T01:30:04-06:00"}
    assert a.check_file_name("TRACS_IL0849800_20261125T013004_0001.xml", attrs, SRC) == []
    assert a.check_file_name("TRACS_IL0849800_20261125T013004_0001.xml.gz", attrs, SRC) == []
    codes = a.check_file_name("TRACS_IL0849801_20261124T013004_0001.xml", attrs, SRC)
    assert [f.code for f in codes] == ["F05", "F05"]


def test_completion_needs_the_sidecar():
    from ingestion.transport import RemoteEntry
    a = TracsAdapter()
    data = RemoteEntry("TRACS_IL0849800_20261125T013004_0001.xml", 10, 100)
    assert not a.is_complete(data, {data.name: data})
    side = RemoteEntry(data.name + ".sha256", 90, 50)
    assert a.is_complete(data, {data.name: data, side.name: side})
    assert a.is_data_name(data.name) and a.is_data_name(data.name + ".gz")
    for name in (data.name + ".part", data.name + ".sha256", "TRACS_IL084980_20261125T013004_0001.xml",
                 "../" + data.name, "notes.txt"):
        assert not a.is_data_name(name)
