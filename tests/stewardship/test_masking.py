"""Masking personal data in raw XML excerpts and finding messages (tricky, broken inputs)."""

from adapters.registry import field_classes
from stewardship.masking import MASK, MaskState, excerpt, mask_message, mask_xml, quoted_value

F = field_classes()


def test_tracs_name_and_birth_date_elements_are_masked():
    xml = (
        "<individualLastName>Doe</individualLastName>\n"
        "<individualFirstName>John</individualFirstName>\n"
        "<individualMiddleName/>\n<individualDOB>1988-02-14</individualDOB>\n"
        "<individualSex>M</individualSex>"
    )
    out = mask_xml(xml, F)
    assert "Doe" not in out and "John" not in out and "1988-02-14" not in out
    assert "<individualSex>M</individualSex>" in out  # codes stay readable
    assert out.count("\n") == xml.count("\n")


def test_meg_name_attributes_in_any_order_quotes_and_lines():
    xml = (
        '<Name First=\'Jane\' Middle = "A"\n      Last="O&apos;Roe"/>\n'
        '<Name Last="Smith" First="Ann"/><BirthDate>1995-07-30</BirthDate><Sex>F</Sex>'
    )
    out = mask_xml(xml, F)
    for value in ("Jane", "O&apos;Roe", "Roe", "Smith", "Ann", "1995-07-30"):
        assert value not in out
    assert out.count("\n") == xml.count("\n") and "<Sex>F</Sex>" in out
    assert f'Last="{MASK}"' in out


def test_prefixed_elements_cdata_and_entities():
    xml = (
        "<t:narrative><![CDATA[Met </x> Mr. Doe & co]]> and &#74;ohn Doe</t:narrative>"
        "<t:individualLastName>&#x44;oe</t:individualLastName><t:summaryUnit>TROOP 3</t:summaryUnit>"
    )
    out = mask_xml(xml, F)
    assert "Doe" not in out and "ohn" not in out and "&#x44;" not in out
    assert "TROOP 3" in out


def test_multiline_narrative_keeps_line_numbers():
    xml = "<narrative>Line one Doe\nline two John\n  line three</narrative>\n<Sex>F</Sex>"
    out = mask_xml(xml, F)
    assert "Doe" not in out and "John" not in out and "three" not in out
    assert out.split("\n")[3] == "<Sex>F</Sex>"


def test_fragment_cut_inside_elements_and_tags():
    # starts inside a name element, ends inside a start tag and inside an unclosed element
    frag = "hn</individualFirstName>\n<individualDOB>1990-01-0"
    out = mask_xml(frag, F)
    assert "hn" not in out.split("<")[0] and "1990-01-0" not in out
    frag2 = '<Subject SubjectId="1">\n<Name Last="Roe" Fir'
    assert "Roe" not in mask_xml(frag2, F)
    frag3 = ' First="Jane" Middle="A"/>\n<Sex>F</Sex>'  # cut mid-tag: attributes without their tag
    out3 = mask_xml(frag3, F)
    assert "Jane" not in out3 and "<Sex>F</Sex>" in out3


def test_unknown_or_misspelt_personal_elements_and_other_forms_are_masked():
    xml = (
        "<individualNickName>Johnny</individualNickName>"
        "<itemDescription>bag owned by Doe</itemDescription>"
        '<OtherForm formType="Citation" formNumber="CT-1"><d xmlns="urn:c">'
        "<driver>John Doe</driver></d></OtherForm>"
        '<attachment name="Doe_John.pdf" mimeType="application/pdf">JVBERi0x</attachment>'
    )
    out = mask_xml(xml, F)
    for value in ("Johnny", "Doe", "John", "JVBERi0x"):
        assert value not in out
    assert 'formType="Citation"' in out and 'mimeType="application/pdf"' in out


def test_comments_and_entity_declarations_are_masked():
    xml = (
        '<!DOCTYPE x [<!ENTITY who "John Doe">]>\n<!-- called Doe -->\n<narrative>&who;</narrative>'
    )
    out = mask_xml(xml, F)
    assert "Doe" not in out


def test_excerpt_shows_numbered_masked_lines_around_the_error():
    lines = [f"<line{i}/>" for i in range(1, 21)]
    lines[9] = "<individualLastName>Doe</individualLastName>"
    got = excerpt("\n".join(lines), line=10, fields=F, context=2)
    assert [n for n, _ in got] == [8, 9, 10, 11, 12]
    assert got[2][1] == f"<individualLastName>{MASK}</individualLastName>"


def test_excerpt_masks_an_element_opened_above_the_excerpt():
    text = "<narrative>\n" + "\n".join(f"Doe said {i}" for i in range(10)) + "\n</narrative>"
    assert all("Doe" not in t for _, t in excerpt(text, line=8, fields=F, context=1))


def test_mask_message_masks_quoted_values_of_personal_fields_only():
    msg = (
        "Element '{urn:il:isp:tracs:export}individualDOB': '1995-13-40' is not a valid value "
        "of the atomic type 'xs:date'."
    )
    out = mask_message(msg, "/TraCSExport/Contact/FieldReport/individuals/individual/individualDOB",
                       F)
    assert "1995-13-40" not in out and "individualDOB" in out and "xs:date" in out
    msg2 = "Element '{urn:il:meg:rms:case-activity}Name', attribute 'Last': 'Doe' is too long"
    out2 = mask_message(msg2, fields=F)
    assert "'Doe'" not in out2 and "'Last'" in out2
    plain = "Element 'summaryCountyCode': 'ABC' is not accepted by the pattern '[0-9]{3}'."
    assert (
        mask_message(plain, "/TraCSExport/Contact/FieldReport/summary/summaryCountyCode", F)
        == plain
    )


# -- field-aware: values of fields that are not personal are shown ----------------------------

def test_values_of_fields_that_are_not_personal_are_shown_personal_ones_masked():
    xml = (
        '<Deflection SubjectId="1" ReferralDate="2026-10-02" Pathway="7">\n'
        "<CountyFIPS>1719</CountyFIPS><summaryIncidentType>DRUGS</summaryIncidentType>\n"
        "<individualSex>Q</individualSex><individualLastName>Doe</individualLastName>\n"
        '<Name Last="Roe" First="Jane"/><Approval Role="D" ApproverId="S1042"/>'
    )
    out = mask_xml(xml, F)
    for shown in ('Pathway="7"', "<CountyFIPS>1719</CountyFIPS>", ">DRUGS<", ">Q<", 'Role="D"'):
        assert shown in out
    for hidden in ("Doe", "Roe", "Jane", "S1042"):
        assert hidden not in out
    # without a classification nothing is shown
    bare = mask_xml(xml)
    assert "DRUGS" not in bare and '"7"' not in bare and "1719" not in bare
    assert "<summaryIncidentType>" in bare  # names of elements and attributes stay


def test_unknown_elements_and_attributes_are_masked():
    out = mask_xml('<individualSexx>M</individualSexx><Sex Nick="Johnny">F</Sex>', F)
    assert ">M<" not in out and "Johnny" not in out and ">F<" in out


def test_text_cut_at_the_top_is_judged_by_the_end_tag_that_follows():
    assert mask_xml("UGS</summaryIncidentType>", F) == "UGS</summaryIncidentType>"
    assert "Do" not in mask_xml("Do\ne</individualLastName>", F)
    assert "hn" not in mask_xml("hn\n<Sex>F</Sex>", F)  # no end tag follows: not known


def test_a_text_starting_inside_a_container_comment_or_cdata_is_masked_to_its_end():
    frag = '<Sex>F</Sex>\n<driver Pathway="5">John</driver>\n</OtherForm>\n<Sex>M</Sex>'
    out = mask_xml(frag, F, MaskState(container=True))
    assert ">F<" not in out and "John" not in out and '"5"' not in out
    assert out.endswith("</OtherForm>\n<Sex>M</Sex>")
    assert out.count("\n") == frag.count("\n")
    assert ">F<" not in mask_xml("<Sex>F</Sex>", F, MaskState(container=True))
    out = mask_xml("<Sex>F</Sex> John -->\n<Sex>M</Sex>", F, MaskState(comment=True))
    assert ">F<" not in out and "John" not in out and out.endswith("-->\n<Sex>M</Sex>")
    out = mask_xml("<Sex>F</Sex> Doe]]></narrative>", F, MaskState(cdata=True))
    assert ">F<" not in out and "Doe" not in out


def test_nested_containers_and_prefixes():
    xml = ('<t:OtherForm formType="Citation"><x:OtherForm><Sex>F</Sex></x:OtherForm>'
           "<Sex>F</Sex></t:OtherForm><t:Sex>M</t:Sex>")
    out = mask_xml(xml, F)
    assert ">F<" not in out and "<t:Sex>M</t:Sex>" in out and 'formType="Citation"' in out


def test_excerpt_escapes_control_characters_and_numbers_lines_from_first():
    got = excerpt("<Sex>\x1b[2JF</Sex>\n<Sex>M</Sex>", line=1, fields=F)
    assert got[0] == (1, "<Sex>\\x1b[2JF</Sex>")


def test_mask_message_by_field():
    public = ("Element '{urn:il:meg:rms:case-activity}Deflection', attribute 'Pathway': "
              "[facet 'enumeration'] The value '7' is not an element of the set {'1', '2'}.")
    assert mask_message(public, "/CaseActivityExport/Case[1]/Deflections/Deflection", F) == public
    assert "'7'" not in mask_message(public)  # without a classification
    unknown = "Element '{urn:x}Nickname': 'Johnny' is not a valid value of the atomic type 'x'."
    assert "Johnny" not in mask_message(unknown, None, F)
    by_path = "The value 'Doe' is too long"
    assert "Doe" not in mask_message(by_path, "/a/b/Name/@Last", F)
    assert mask_message("duplicate individual seq 2", "/a/individual", F) == \
        "duplicate individual seq 2"


def test_quoted_value():
    assert quoted_value("Element '{u}Deflection', attribute 'Pathway': [facet 'enumeration'] "
                        "The value '7' is not an element of the set {'1'}.") == "7"
    assert quoted_value("Element '{u}Sex': 'Q' is not a valid value of the union type 'x'.") \
        == "Q"
    assert quoted_value("Element '{u}X': '[masked]' is not a valid value of the type 'x'.") \
        == MASK
    assert quoted_value("Element '{u}CountyFIPS': '1111…' (300 characters) is not a valid "
                        "value.") == "1111…"
    assert quoted_value("B01 a deflection without CD: individual seq 2") is None
    assert quoted_value(None) is None


def test_mask_message_after_a_rule_wording_with_an_apostrophe():
    msg = ("XML Schema error inside a FieldReport (or its Contact's attributes) or a Case: "
           "Element '{urn:il:meg:rms:case-activity}BirthDate': [facet 'pattern'] The value "
           "'1990-06-17x' is not accepted by the pattern '[0-9]{4}'.")
    out = mask_message(msg, "/CaseActivityExport/Case[1]/Subjects/Subject[1]/BirthDate", F)
    assert "1990-06-17x" not in out and "Contact's attributes) or a Case: Element" in out
    assert quoted_value(out) == MASK
