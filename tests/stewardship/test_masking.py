"""Masking personal data in raw XML excerpts and finding messages (tricky, broken inputs)."""

from stewardship.masking import MASK, excerpt, mask_message, mask_xml


def test_tracs_name_and_birth_date_elements_are_masked():
    xml = (
        "<individualLastName>Doe</individualLastName>\n"
        "<individualFirstName>John</individualFirstName>\n"
        "<individualMiddleName/>\n<individualDOB>1988-02-14</individualDOB>\n"
        "<individualSex>M</individualSex>"
    )
    out = mask_xml(xml)
    assert "Doe" not in out and "John" not in out and "1988-02-14" not in out
    assert "<individualSex>M</individualSex>" in out  # codes stay readable
    assert out.count("\n") == xml.count("\n")


def test_meg_name_attributes_in_any_order_quotes_and_lines():
    xml = (
        '<Name First=\'Jane\' Middle = "A"\n      Last="O&apos;Roe"/>\n'
        '<Name Last="Smith" First="Ann"/><BirthDate>1995-07-30</BirthDate><Sex>F</Sex>'
    )
    out = mask_xml(xml)
    for value in ("Jane", "O&apos;Roe", "Roe", "Smith", "Ann", "1995-07-30"):
        assert value not in out
    assert out.count("\n") == xml.count("\n") and "<Sex>F</Sex>" in out
    assert f'Last="{MASK}"' in out


def test_prefixed_elements_cdata_and_entities():
    xml = (
        "<t:narrative><![CDATA[Met </x> Mr. Doe & co]]> and &#74;ohn Doe</t:narrative>"
        "<t:individualLastName>&#x44;oe</t:individualLastName><t:summaryUnit>TROOP 3</t:summaryUnit>"
    )
    out = mask_xml(xml)
    assert "Doe" not in out and "ohn" not in out and "&#x44;" not in out
    assert "TROOP 3" in out


def test_multiline_narrative_keeps_line_numbers():
    xml = "<narrative>Line one Doe\nline two John\n  line three</narrative>\n<x>after</x>"
    out = mask_xml(xml)
    assert "Doe" not in out and "John" not in out and "three" not in out
    assert out.split("\n")[3] == "<x>after</x>"


def test_fragment_cut_inside_elements_and_tags():
    # starts inside a name element, ends inside a start tag and inside an unclosed element
    frag = "hn</individualFirstName>\n<individualDOB>1990-01-0"
    out = mask_xml(frag)
    assert "hn" not in out.split("<")[0] and "1990-01-0" not in out
    frag2 = '<Subject SubjectId="1">\n<Name Last="Roe" Fir'
    assert "Roe" not in mask_xml(frag2)
    frag3 = ' First="Jane" Middle="A"/>\n<Sex>F</Sex>'  # cut mid-tag: attributes without their tag
    out3 = mask_xml(frag3)
    assert "Jane" not in out3 and "<Sex>F</Sex>" in out3


def test_unknown_or_misspelt_personal_elements_and_other_forms_are_masked():
    xml = (
        "<individualNickName>Johnny</individualNickName>"
        "<itemDescription>bag owned by Doe</itemDescription>"
        '<OtherForm formType="Citation" formNumber="CT-1"><d xmlns="urn:c">'
        "<driver>John Doe</driver></d></OtherForm>"
        '<attachment name="Doe_John.pdf" mimeType="application/pdf">JVBERi0x</attachment>'
    )
    out = mask_xml(xml)
    for value in ("Johnny", "Doe", "John", "JVBERi0x"):
        assert value not in out
    assert 'formType="Citation"' in out and 'mimeType="application/pdf"' in out


def test_comments_and_entity_declarations_are_masked():
    xml = (
        '<!DOCTYPE x [<!ENTITY who "John Doe">]>\n<!-- called Doe -->\n<narrative>&who;</narrative>'
    )
    out = mask_xml(xml)
    assert "Doe" not in out


def test_excerpt_shows_numbered_masked_lines_around_the_error():
    lines = [f"<line{i}/>" for i in range(1, 21)]
    lines[9] = "<individualLastName>Doe</individualLastName>"
    got = excerpt("\n".join(lines), line=10, context=2)
    assert [n for n, _ in got] == [8, 9, 10, 11, 12]
    assert got[2][1] == f"<individualLastName>{MASK}</individualLastName>"


def test_excerpt_masks_an_element_opened_above_the_excerpt():
    text = "<narrative>\n" + "\n".join(f"Doe said {i}" for i in range(10)) + "\n</narrative>"
    assert all("Doe" not in t for _, t in excerpt(text, line=8, context=1))


def test_mask_message_masks_quoted_values_of_personal_fields_only():
    msg = (
        "Element '{urn:il:isp:tracs:export}individualDOB': '1995-13-40' is not a valid value "
        "of the atomic type 'xs:date'."
    )
    out = mask_message(msg, "/TraCSExport/Contact/FieldReport/individuals/individual/individualDOB")
    assert "1995-13-40" not in out and "individualDOB" in out and "xs:date" in out
    msg2 = "Element '{urn:il:meg:rms:case-activity}Name', attribute 'Last': 'Doe' is too long"
    out2 = mask_message(msg2)
    assert "'Doe'" not in out2 and "'Last'" in out2
    plain = "Element 'summaryCountyCode': 'ABC' is not accepted by the pattern '[0-9]{3}'."
    assert (
        mask_message(plain, "/TraCSExport/Contact/FieldReport/summary/summaryCountyCode") == plain
    )
