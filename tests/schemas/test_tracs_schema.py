"""Every rule of tracs-incident-export.md §2 against tracs-incident-export-1.{0,1}.xsd."""
import copy

import pytest

from tests.schemas.helpers import (
    DOC_VERSION,
    append,
    assert_fails_naming,
    assert_valid,
    attr_cases,
    bad,
    clear_children,
    collect,
    drop,
    dup,
    good,
    leaf_cases,
    load,
    mutated,
    serialize,
    swap_with_next,
    text,
)

R = "/t:TraCSExport"
C = f"{R}/t:Contact"
FR = f"{C}/t:FieldReport"
S = f"{FR}/t:summary"
I1 = f"{FR}/t:individuals/t:individual[1]"
I2 = f"{FR}/t:individuals/t:individual[2]"
D = f"{I2}/t:deflection"
OFF = f"{FR}/t:offenses/t:offense"
ITEM = f"{FR}/t:evidence/t:item"
ATT = f"{FR}/t:attachments/t:attachment"
OF = f"{C}/t:OtherForm"

BAD_DATES = ["2026-02-29", "2026-04-31", "2026-13-01", "2026-1-05", "26-11-24", "2026-11-24Z",
             "2026-11-24-06:00", "2026-11-24T00:00:00", " 2026-11-24", "0999-01-01"]
GOOD_DATES = ["2024-02-29", "2000-02-29", "1999-12-31"]
BAD_INSTANTS = ["2026-11-24T22:02:00", "2026-11-24", "2026-11-24 22:02:00-06:00",
                "2026-11-24T22:02:00-6:00", "2026-11-24T22:02:00+15:00",
                "2026-11-24T24:00:00-06:00", "2026-02-30T22:02:00-06:00",
                " 2026-11-24T22:02:00-06:00"]
GOOD_INSTANTS = ["2026-11-25T04:02:00Z", "2026-11-24T22:02:00.123-06:00",
                 "2026-11-24T22:02:00+14:00", "2026-11-24T22:02:00-05:00"]
T1 = ["DRUG", "DUI", "TRAFFIC", "WEAPONS", "PROPERTY", "PERSON", "OTHER"]
T2 = ["01", "02", "03", "04", "05"]
T3 = ["W", "B", "A", "I", "P", "M", "U"]
T4 = ["AR", "CI", "CD", "WA", "RL", "RF", "OT"]
T5 = ["SR", "AO", "NP", "OP", "OI"]


def _leaf(parent, element, **kw):
    return leaf_cases("tracs", parent, element, "t", **kw)


def _attr(xpath, name, **kw):
    return attr_cases("tracs", xpath, name, **kw)


LEAVES = collect(
    # §2.4 summary
    _leaf(S, "summaryReportNumber", blankable=False,
          bad_values=["ISP26-12345", "isp26-012345", "ISP26-0123456", "ISP26-012345 "],
          good_values=["ISP99-000000"]),
    _leaf(S, "summaryDateOccurred", blankable=False, bad_values=BAD_DATES, good_values=GOOD_DATES),
    _leaf(S, "summaryTimeOccurred", blankable=True,
          bad_values=["24:00", "9:40", "21:40:00", "21:60", " 21:40"],
          good_values=["00:00", "23:59"]),
    _leaf(S, "summaryDivision", blankable=False, bad_values=["dop", "DOC", "DOP "],
          good_values=["DCI"]),
    _leaf(S, "summaryUnit", blankable=False, bad_values=["X" * 41, "\n\t"],
          good_values=["X" * 40, "ZONE 5"]),
    _leaf(S, "summaryOfficerBadge", blankable=False, bad_values=["12", "1234567", "12a4"],
          good_values=["123", "123456"]),
    _leaf(S, "summaryCountyCode", blankable=False, bad_values=["31", "0311", "17199", "O31"],
          good_values=["031"]),
    _leaf(S, "summaryIncidentType", blankable=False, bad_values=["drug", "NARCOTICS"],
          good_values=T1),
    # §2.5 individual
    _leaf(I1, "individualRole", blankable=False, bad_values=["06", "1", "00"], good_values=T2),
    _leaf(I1, "individualLastName", blankable=True, bad_values=["x" * 61, "\t\n "],
          good_values=["x" * 60, "O'Brien-Núñez", " Doe"]),
    _leaf(I1, "individualFirstName", blankable=True, bad_values=["x" * 61],
          good_values=["x" * 60]),
    _leaf(I1, "individualMiddleName", blankable=True, bad_values=["x" * 61],
          good_values=["x" * 60]),
    _leaf(I1, "individualDOB", blankable=True, bad_values=BAD_DATES, good_values=GOOD_DATES),
    _leaf(I1, "individualSex", blankable=True, bad_values=["m", "Q", "MALE", " M"],
          good_values=["M", "F", "X", "U"]),
    _leaf(I1, "individualRace", blankable=True, bad_values=["Z", "w", "H"], good_values=T3),
    _leaf(I1, "individualEthnicity", blankable=True, bad_values=["Y", "X", "n"],
          good_values=["H", "N", "U"]),
    _leaf(I1, "individualDisposition", blankable=True, bad_values=["cd", "XX", "DF"],
          good_values=T4),
    # §2.6 deflection
    _leaf(D, "deflectionPathway", blankable=False, bad_values=["1", "XX", "oi"], good_values=T5),
    _leaf(D, "deflectionApprovalUnit", blankable=True,
          bad_values=["sieg", "S", "A" + "B" * 20, "1SIEG", "SIEG-1", "SIEG "],
          good_values=["ZZ_NOT_IN_REFERENCE", "S1", "A" + "B" * 19]),
    _leaf(D, "deflectionApproverRole", blankable=True, bad_values=["DIRECTOR", "D", "dir"],
          good_values=["DIR", "CMDR", "DSGN"]),
    _leaf(D, "deflectionApproverId", blankable=True, bad_values=["S1", "S" * 13, "s1042"],
          good_values=["S10", "ABCDEFGHIJ12"]),
    _leaf(D, "deflectionApprovalDateTime", blankable=True, bad_values=BAD_INSTANTS,
          good_values=GOOD_INSTANTS),
    _leaf(D, "deflectionReferralDate", blankable=False, bad_values=BAD_DATES,
          good_values=GOOD_DATES),
    _leaf(D, "deflectionCaseManagerAgency", blankable=True, bad_values=["x" * 81],
          good_values=["x" * 80]),
    _leaf(D, "deflectionCaseManagerContactDate", blankable=True, bad_values=BAD_DATES,
          good_values=GOOD_DATES),
    _leaf(D, "deflectionChargesHeldInAbeyance", blankable=True, bad_values=["y", "YES", "U"],
          good_values=["Y", "N"]),
    _leaf(D, "deflectionCoResponderType", blankable=True, optional=True,
          bad_values=["peer", "OTHER"], good_values=["CLINICIAN", "PEER", "SOCIAL_WORKER", "NONE"]),
    # §2.3 narrative
    _leaf(FR, "narrative", blankable=True, bad_values=[" \n\t "],
          good_values=["line one\nline two", "x" * 20000, "\n  indented"]),
    # §2.8 offense, §2.9 item
    _leaf(OFF, "offenseStatute", blankable=False, bad_values=["x" * 61], good_values=["x" * 60]),
    _leaf(OFF, "offenseDescription", blankable=True, bad_values=["x" * 201],
          good_values=["x" * 200]),
    _leaf(OFF, "offenseClass", blankable=False, bad_values=["5", "x", "M"],
          good_values=["X", "1", "2", "3", "4", "A", "B", "C", "U"]),
    _leaf(ITEM, "itemDescription", blankable=False, bad_values=["x" * 201],
          good_values=["x" * 200]),
    _leaf(ITEM, "itemSeized", blankable=False, bad_values=["y", "U"], good_values=["Y", "N"]),
    _leaf(ITEM, "itemStatus", blankable=True, bad_values=["LOST", "held"],
          good_values=["HELD", "LAB", "DESTROYED", "RETURNED"]),
)

ATTRIBUTES = collect(
    _attr(R, "schemaVersion", bad_values=["1.0", "1.1 ", "2.0", "1.2"]),
    _attr(R, "exportId", bad_values=["5B0C2F7E-3C1A-4F43-9A51-0D6F1F3E2A10",
                                     "5b0c2f7e3c1a4f439a510d6f1f3e2a10",
                                     "5b0c2f7e-3c1a-4f43-9a51-0d6f1f3e2a1",
                                     "{5b0c2f7e-3c1a-4f43-9a51-0d6f1f3e2a10}"]),
    _attr(R, "createdAt", bad_values=BAD_INSTANTS, good_values=GOOD_INSTANTS),
    _attr(R, "agencyORI", bad_values=["IL084980", "il0849800", "IL08498000", "1L0849800",
                                      "IL08498-0"], good_values=["IA0000ZZZ"]),
    _attr(C, "contactId", bad_values=["C-26-0001234", "C-2-00012345", "c-26-00012345",
                                      "C-26-000123456"]),
    _attr(FR, "formNumber", bad_values=["FR-26-001234", "FR-26-00012345", "XR-26-0001234"]),
    _attr(FR, "formVersion", bad_values=["0", "-1", "01", "1.0", "+1", " 1", "x"],
          good_values=["2", "123456789"]),
    _attr(FR, "status", bad_values=["voided", "Deleted", "Voided "],
          good_values=["Accepted", "Exported", "Transmitted", "Voided"]),
    _attr(FR, "lastModified", bad_values=BAD_INSTANTS, good_values=GOOD_INSTANTS),
    _attr(I1, "seq", bad_values=["0", "x", "-1", "01"], good_values=["7"]),
    _attr(OFF, "seq", bad_values=["0", "x"]),
    _attr(ITEM, "seq", bad_values=["0", "x"]),
    _attr(ATT, "name", bad_values=["x" * 101], good_values=["x" * 100]),
    _attr(ATT, "mimeType", bad_values=["text/plain", "application/PDF", "image/png"],
          good_values=["application/pdf", "image/jpeg"]),
    _attr(OF, "formType", bad_values=["x" * 41], good_values=["x" * 40, "SR1050Crash"]),
    _attr(OF, "formNumber", bad_values=["x" * 41], good_values=["x" * 40]),
)


def _move_other_form_first_and_add_report(contact):
    ns = contact.nsmap[None]
    other = contact.find(f"{{{ns}}}OtherForm")
    report = contact.find(f"{{{ns}}}FieldReport")
    contact.insert(0, other)
    second = copy.deepcopy(report)
    second.set("formNumber", "FR-26-0009999")
    contact.append(second)
    contact.append(copy.deepcopy(other))


STRUCTURE_BAD = [
    # §2.1 root: Contact children only, no stray content, no unknown attribute
    bad("root-unknown-child", "tracs", R, append("<Report/>"), "Report"),
    bad("root-text-content", "tracs", R, append("stray text"), "TraCSExport"),
    bad("root-unknown-attribute", "tracs", R, lambda el: el.set("foo", "1"), "TraCSExport", "foo"),
    # §2.2 Contact: one or more FieldReport/OtherForm
    bad("contact-empty", "tracs", C, clear_children(), "FieldReport"),
    bad("contact-unknown-child", "tracs", C, append("<Crash/>"), "Crash"),
    bad("contact-text-content", "tracs", C, append("stray"), "Contact"),
    # §2.3 FieldReport children: each present once, in order
    bad("summary-missing", "tracs", S, drop(), "summary"),
    bad("individuals-missing", "tracs", f"{FR}/t:individuals", drop(), "individuals"),
    bad("offenses-missing", "tracs", f"{FR}/t:offenses", drop(), "offenses"),
    bad("evidence-missing", "tracs", f"{FR}/t:evidence", drop(), "evidence"),
    bad("attachments-missing", "tracs", f"{FR}/t:attachments", drop(), "attachments"),
    bad("summary-after-individuals", "tracs", S, swap_with_next(), "individuals"),
    bad("offenses-after-evidence", "tracs", f"{FR}/t:offenses", swap_with_next(), "evidence"),
    bad("narrative-after-attachments", "tracs", f"{FR}/t:narrative", swap_with_next(),
        "attachments"),
    bad("summary-twice", "tracs", S, dup(), "summary"),
    bad("fieldreport-extra-child", "tracs", FR, append("<remarks/>"), "remarks"),
    bad("fieldreport-text-content", "tracs", FR, append("stray"), "FieldReport"),
    bad("individuals-empty", "tracs", f"{FR}/t:individuals", clear_children(), "individual"),
    bad("individuals-foreign-child", "tracs", f"{FR}/t:individuals", append("<person/>"), "person"),
    # §2.4 summary order
    bad("summary-order", "tracs", f"{S}/t:summaryDivision", swap_with_next(), "summaryUnit"),
    bad("summary-text-content", "tracs", S, append("stray"), "summary"),
    # §2.5 individual order, deflection 0..1 and last
    bad("individual-order", "tracs", f"{I1}/t:individualSex", swap_with_next(), "individualRace"),
    bad("deflection-twice", "tracs", D, dup(), "deflection"),
    bad("deflection-first", "tracs", I2, lambda el: el.insert(0, el[-1]), "deflection"),
    # §2.6 deflection order; coResponder last
    bad("deflection-order", "tracs", f"{D}/t:deflectionApproverRole", swap_with_next(),
        "deflectionApproverId"),
    bad("coresponder-not-last", "tracs", f"{D}/t:deflectionChargesHeldInAbeyance",
        swap_with_next(), "deflectionChargesHeldInAbeyance"),
    # §2.8 / §2.9 order
    bad("offense-order", "tracs", f"{OFF}/t:offenseStatute", swap_with_next(),
        "offenseDescription"),
    bad("item-order", "tracs", f"{ITEM}/t:itemDescription", swap_with_next(), "itemSeized"),
    bad("offense-foreign-child", "tracs", f"{FR}/t:offenses", append("<charge/>"), "charge"),
    # §2.10 attachment: Base64 text only
    bad("attachment-not-base64", "tracs", ATT, text("abc"), "attachment"),
    bad("attachment-bad-padding", "tracs", ATT, text("ab=c"), "attachment"),
    bad("attachment-only-padding", "tracs", ATT, text("===="), "attachment"),
    bad("attachment-child-element", "tracs", ATT, append("<page/>"), "attachment"),
    # the right name in another namespace, or in none
    bad("foreign-namespace-element", "tracs", f"{S}/t:summaryUnit",
        lambda el: setattr(el, "tag", "{urn:other}summaryUnit"), "summaryUnit"),
    bad("no-namespace-element", "tracs", f"{S}/t:summaryUnit",
        append('<summaryUnit xmlns="">TROOP 1</summaryUnit>'), "summaryUnit"),
    # a 1.1 element in a 1.0 document
    bad("coresponder-in-1.0", "tracs10", D,
        append("<deflectionCoResponderType>PEER</deflectionCoResponderType>"),
        "deflectionCoResponderType"),
]

STRUCTURE_GOOD = [
    good("no-contact", "tracs", C, drop()),
    good("contact-otherform-only", "tracs", f"{C}/t:FieldReport", drop()),
    good("contact-any-order-and-count", "tracs", C, _move_other_form_first_and_add_report),
    good("offenses-empty", "tracs", f"{FR}/t:offenses", clear_children()),
    good("evidence-empty", "tracs", f"{FR}/t:evidence", clear_children()),
    good("attachments-empty", "tracs", f"{FR}/t:attachments", clear_children()),
    good("individuals-many", "tracs", I2, dup()),
    # B01/B02 are rules, not schema: CD without deflection and deflection without CD both pass
    good("cd-without-deflection", "tracs", D, drop()),
    good("deflection-without-cd", "tracs", f"{I2}/t:individualDisposition", text("AR")),
    good("narrative-empty-element-form", "tracs", f"{FR}/t:narrative", text(None)),
    good("attachment-line-breaks", "tracs", ATT, text("\nJVBERi0x\nLjcKJeLj\r\nz9MK\n")),
    good("attachment-empty", "tracs", ATT, text("")),
    good("otherform-empty", "tracs", OF, clear_children()),
    good("otherform-any-content", "tracs", OF, append(
        'free text <a xmlns="urn:x" b="1"><c/>more</a><FieldReport bogus="y"/>'
        '<summary><anything/></summary><z:q xmlns:z="urn:z" z:attr="v"/>')),
    good("version-1.0-without-coresponder", "tracs10", D, lambda el: None),
]


@pytest.mark.parametrize("doc,xpath,mutation,element,attribute", LEAVES[0] + ATTRIBUTES[0]
                         + STRUCTURE_BAD)
def test_breaking_a_rule_is_a_located_error(doc, xpath, mutation, element, attribute):
    assert_fails_naming(mutated(doc, xpath, mutation), element, attribute, DOC_VERSION[doc])


@pytest.mark.parametrize("doc,xpath,mutation", LEAVES[1] + ATTRIBUTES[1] + STRUCTURE_GOOD)
def test_allowed_variation_stays_valid(doc, xpath, mutation):
    assert_valid(mutated(doc, xpath, mutation), DOC_VERSION[doc])


def test_1_0_document_against_1_1_schema_names_schema_version():
    data = serialize(load("tracs10"))
    assert_valid(data, "1.0")
    assert_fails_naming(data, "TraCSExport", "schemaVersion", version="1.1")


def test_1_1_document_against_1_0_schema_fails_on_version_and_new_element():
    data = serialize(load("tracs"))
    assert_fails_naming(data, "TraCSExport", "schemaVersion", version="1.0")
    assert_fails_naming(data, "deflectionCoResponderType", None, version="1.0")


def test_1_1_document_may_omit_the_1_1_element():
    tree = load("tracs")
    for el in tree.getroot().iterfind(".//{*}deflectionCoResponderType"):
        el.getparent().remove(el)
    assert_valid(serialize(tree), "1.1")
