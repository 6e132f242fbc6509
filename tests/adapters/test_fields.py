"""The personal-data classification of every interface field (deflect.core.fields): complete
against the schemas, and personal by default."""
from __future__ import annotations

import pytest
from lxml import etree

from adapters.registry import ADAPTERS, field_classes
from deflect.core.fields import NOTHING_PUBLIC, declare, merge
from schemas.registry import SCHEMA_DIR

XS = "{http://www.w3.org/2001/XMLSchema}"


def _declared(xsd) -> tuple[set[str], set[str]]:
    tree = etree.parse(str(xsd))
    elements = {el.get("name") for el in tree.iter(f"{XS}element") if el.get("name")}
    attributes = {el.get("name") for el in tree.iter(f"{XS}attribute") if el.get("name")}
    return elements, attributes


def test_every_schema_file_belongs_to_an_adapter():
    """A new XSD is read through an adapter, whose classification the next test checks."""
    owned = {p.resolve() for a in ADAPTERS.values() for _, p in a.schemas.files}
    assert {p.resolve() for p in SCHEMA_DIR.glob("*.xsd")} <= owned


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_every_declared_element_and_attribute_is_classified(kind):
    adapter = ADAPTERS[kind]
    for _, xsd in adapter.schemas.files:
        elements, attributes = _declared(xsd)
        assert elements, xsd  # the schema was read
        missing_el = elements - adapter.fields.classified_elements()
        missing_at = attributes - adapter.fields.classified_attributes()
        assert not missing_el and not missing_at, (xsd.name, missing_el, missing_at)


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_nothing_classified_is_missing_from_the_schemas(kind):
    """A name classified but declared nowhere is a typo that would leave the real one personal
    (safe) and the list wrong."""
    adapter = ADAPTERS[kind]
    elements, attributes = set(), set()
    for _, xsd in adapter.schemas.files:
        e, a = _declared(xsd)
        elements |= e
        attributes |= a
    assert adapter.fields.classified_elements() <= elements
    assert adapter.fields.classified_attributes() <= attributes


@pytest.mark.parametrize("name", [
    "individualLastName", "individualFirstName", "individualMiddleName", "individualDOB",
    "narrative", "attachment", "offenseDescription", "itemDescription", "summaryOfficerBadge",
    "deflectionApproverId", "deflectionCaseManagerAgency", "Name", "BirthDate", "OtherForm",
])
def test_personal_elements(name):
    assert field_classes().element_is_personal(name)


@pytest.mark.parametrize("name", ["Last", "First", "Middle", "ApproverId", "Agency", "Office",
                                  "name"])
def test_personal_attributes(name):
    assert field_classes().attribute_is_personal(name)


@pytest.mark.parametrize("name", [
    "summaryIncidentType", "summaryCountyCode", "individualSex", "individualRace",
    "deflectionPathway", "CountyFIPS", "Sex", "Outcome", "TraCSReportNumber",
])
def test_public_elements(name):
    assert not field_classes().element_is_personal(name)


@pytest.mark.parametrize("name", ["Pathway", "CaseNumber", "Result", "formNumber", "seq",
                                  "xmlns", "xmlns:t"])
def test_public_attributes(name):
    assert not field_classes().attribute_is_personal(name)


def test_unknown_names_are_personal():
    f = field_classes()
    for name in ("anything", "individualNickName", "Pathwya", "", None):
        assert f.element_is_personal(name) and f.attribute_is_personal(name)
    assert NOTHING_PUBLIC.element_is_personal("Pathway")
    assert NOTHING_PUBLIC.attribute_is_personal("Pathway")


def test_merge_keeps_personal_where_interfaces_disagree():
    a = declare(public_elements=("Code",), public_attributes=("id",))
    b = declare(personal_elements=("Code",), public_attributes=("id",))
    merged = merge(a, b)
    assert merged.element_is_personal("Code") and not merged.attribute_is_personal("id")


def test_a_name_declared_both_ways_is_refused():
    with pytest.raises(ValueError, match="Code"):
        declare(public_elements=("Code",), personal_elements=("Code",))
