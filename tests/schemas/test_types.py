"""Decisions the specs leave open, and the exactness of the shared simple types."""
import datetime as dt
import re

from lxml import etree

from schemas.registry import SCHEMA_DIR, get_schema
from tests.schemas.helpers import (
    MEG,
    MEG_EXAMPLE,
    NSMAP,
    TRACS_EXAMPLE,
    assert_valid,
    attr,
    check,
    load,
    mutated,
    parse,
    serialize,
    text,
)


def test_spec_examples_validate_as_copied():
    assert_valid(TRACS_EXAMPLE.read_bytes(), "1.1")
    assert_valid(MEG_EXAMPLE.read_bytes(), "2.0")
    assert MEG_EXAMPLE.read_bytes().startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')


def test_iso_8859_1_names_validate():
    data = MEG_EXAMPLE.read_bytes().replace(b'Last="Roe"', 'Last="Ruíz Müller"'.encode("latin-1"))
    assert_valid(data, "2.0")


def _meg_with_evaluation_dates(dates):
    tree = load("meg")
    evals = tree.getroot().find(".//m:Evaluations", NSMAP)
    template = evals[0]
    evals.remove(template)
    for d in dates:
        ev = etree.SubElement(evals, template.tag, Date=d, Result="ENG")
        ev.tail = "\n"
    return serialize(tree)


def test_date_type_is_exactly_the_calendar():
    years = [999, 1000, 1900, 1999, 2000, 2023, 2024, 2100, 2400, 9999]
    dates = [f"{y:04d}-{m:02d}-{d:02d}" for y in years for m in range(14) for d in range(33)]

    def real(s):
        try:
            return dt.date.fromisoformat(s).year >= 1000
        except ValueError:
            return False

    data = _meg_with_evaluation_dates(dates)
    errors = check(data, "2.0")
    lines = data.decode("latin-1").splitlines()
    rejected = {re.search(r'Date="([^"]*)"', lines[e.line - 1]).group(1) for e in errors}
    assert rejected == {d for d in dates if not real(d)}


def test_offsets_of_instants():
    dt_xpath = "/t:TraCSExport/t:Contact/t:FieldReport"
    for value, ok in [("2026-11-24T22:02:00Z", True), ("2026-11-24T22:02:00+00:00", True),
                      ("2026-11-24T22:02:00+14:00", True), ("2026-11-24T22:02:00-13:59", True),
                      ("2026-11-24T22:02:00+14:01", False), ("2026-11-24T22:02:00+05", False),
                      ("2026-11-24T22:02:00+0500", False), ("2026-11-24T22:02:00z", False)]:
        data = mutated("tracs", dt_xpath, attr("lastModified", value))
        assert (check(data, "1.1") == []) is ok, value


def test_blank_is_either_empty_form_and_nothing_else():
    # <x/> and <x></x> are both blank; a comment inside is still empty content
    for form in ("<individualMiddleName/>", "<individualMiddleName></individualMiddleName>",
                 "<individualMiddleName><!-- none --></individualMiddleName>"):
        data = TRACS_EXAMPLE.read_bytes().replace(b"<individualMiddleName/>", form.encode())
        assert_valid(data, "1.1")
    for form in ("<individualMiddleName> </individualMiddleName>",
                 "<individualMiddleName>\n</individualMiddleName>",
                 "<individualMiddleName>&#160;x</individualMiddleName>"):
        data = TRACS_EXAMPLE.read_bytes().replace(b"<individualMiddleName/>", form.encode())
        errors = check(data, "1.1")
        assert (errors != []) is (form.count("x") == 0), form


def test_padded_values_are_errors_even_for_dates_and_integers():
    # xs:date / xs:positiveInteger would collapse the padding away; the schemas do not
    base = "/t:TraCSExport/t:Contact/t:FieldReport"
    for xpath, value in [(f"{base}/t:summary/t:summaryDateOccurred", "2026-11-24 "),
                         (f"{base}/t:individuals/t:individual[1]/t:individualDOB", "\n1988-02-14")]:
        assert check(mutated("tracs", xpath, text(value)), "1.1")
    data = mutated("tracs", base, lambda el: el.set("formVersion", "1 "))
    assert check(data, "1.1")


def test_tracs_schema_versions_differ_only_in_the_1_1_element():
    new = (SCHEMA_DIR / "tracs-incident-export-1.1.xsd").read_text()
    old = (SCHEMA_DIR / "tracs-incident-export-1.0.xsd").read_text()

    def body(xsd):
        xsd = xsd.split("-->", 1)[1]  # the header comment names the file's own version
        xsd = re.sub(r'fixed="1\.[01]"', 'fixed="V"', xsd)
        xsd = re.sub(r'\s*<xs:simpleType name="CoResponderType(OrBlank)?">.*?</xs:simpleType>',
                     "", xsd, flags=re.DOTALL)
        xsd = re.sub(r'\s*<!-- schemaVersion 1.1 only -->\s*<xs:element name="deflectionCoR'
                     r'esponderType"[^>]*/>', "", xsd)
        return xsd

    assert 'fixed="1.0"' in old and 'fixed="1.1"' in new
    assert "CoResponder" not in body(old) and "CoResponder" in new.split("-->", 1)[1]
    assert body(new) == body(old)


def test_schemas_are_xsd_1_0_without_identity_constraints():
    for path in SCHEMA_DIR.glob("*.xsd"):
        doc = etree.parse(str(path))
        xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
        assert not doc.xpath("//xs:unique | //xs:key | //xs:keyref | //xs:assert | "
                             "//xs:alternative | //xs:openContent", namespaces=xs), path.name
        assert doc.getroot().get("elementFormDefault") == "qualified"
        assert doc.getroot().get("attributeFormDefault") == "unqualified"


def test_huge_offending_value_is_shortened_in_the_message():
    att = "/t:TraCSExport/t:Contact/t:FieldReport/t:attachments/t:attachment"
    for payload, note in [("QUJD" * 30000 + "QQ=", "value cut by libxml2"),  # wrong length
                          ("QUJD" * 100 + "QQ=", "403 characters")]:
        (err,) = check(mutated("tracs", att, text(payload)), "1.1")
        assert err.element == "attachment" and len(err.message) < 400, err.message
        assert "'QUJDQUJD" in err.message and note in err.message


def test_xmlschema_agrees_on_the_examples_and_reports_the_same_error():
    entry = get_schema(MEG, "2.0")
    xs = entry.xmlschema_schema()
    assert xs.is_valid(parse(MEG_EXAMPLE.read_bytes()))
    data = mutated("meg", "/m:CaseActivityExport/m:Case", lambda el: el.set("Status", "GONE"))
    (err,) = list(xs.iter_errors(parse(data)))
    assert "Status" in str(err) and err.sourceline
