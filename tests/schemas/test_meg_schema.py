"""Every rule of meg-case-activity-export.md §2 against meg-case-activity-export-2.0.xsd."""
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
    mutated,
    swap_with_next,
    text,
)

R = "/m:CaseActivityExport"
CASE = f"{R}/m:Case"
AG = f"{CASE}/m:OriginatingAgency"
SUBJ = f"{CASE}/m:Subjects/m:Subject"
NAME = f"{SUBJ}/m:Name"
DEF = f"{CASE}/m:Deflections/m:Deflection"
APP = f"{DEF}/m:Approval"
CM = f"{DEF}/m:CaseManager"
EV = f"{DEF}/m:Evaluations/m:Evaluation"
PS = f"{DEF}/m:ProsecutorSubmission"
ED = f"{DEF}/m:EvidenceDisposal"

BAD_DATES = ["2026-02-29", "2026-11-31", "2026-13-01", "2026-1-05", "2026-11-25Z",
             "2026-11-25-06:00", "2026-11-25T00:00:00", " 2026-11-25"]
GOOD_DATES = ["2024-02-29", "1999-12-31"]
BAD_LOCAL = ["2027-01-19T16:02:11-06:00", "2027-01-19T16:02:11Z", "2027-01-19T16:02:11+00:00",
             "2027-01-19", "2027-01-19 16:02:11", "2027-01-19T25:02:11", "2027-02-29T16:02:11",
             " 2027-01-19T16:02:11"]
# a time that does not exist (spring forward) and one that repeats (fall back) are still values
GOOD_LOCAL = ["2027-01-19T16:02:11.5", "2026-03-08T02:30:00", "2026-11-01T01:30:00"]
RACE = ["W", "B", "A", "I", "P", "M", "U"]


def _leaf(parent, element, **kw):
    return leaf_cases("meg", parent, element, "m", **kw)


def _attr(xpath, name, doc="meg", **kw):
    return attr_cases(doc, xpath, name, **kw)


LEAVES = collect(
    _leaf(CASE, "OpenedDate", blankable=False, bad_values=BAD_DATES, good_values=GOOD_DATES),
    _leaf(CASE, "TraCSReportNumber", blankable=False, optional=True,
          bad_values=["ISP26-12345", "isp26-012345", "SIEG-2026-0412"]),
    _leaf(CASE, "CountyFIPS", blankable=False, bad_values=["199", "171990", "1719A"],
          good_values=["19163"]),
    _leaf(SUBJ, "BirthDate", blankable=False, optional=True, bad_values=BAD_DATES,
          good_values=GOOD_DATES),
    _leaf(SUBJ, "Sex", blankable=False, bad_values=["f", "Q"], good_values=["M", "F", "X", "U"]),
    _leaf(SUBJ, "Race", blankable=False, bad_values=["w", "H"], good_values=RACE),
    _leaf(DEF, "Outcome", blankable=False, bad_values=["pending", "DONE", "PENDING "],
          good_values=["PENDING", "SUCCESSFUL", "UNSUCCESSFUL"]),
)

ATTRIBUTES = collect(
    _attr(R, "Version", bad_values=["2.1", "2", "2.0 ", "1.0"]),
    _attr(R, "Unit", bad_values=["sieg", "S", "SIEG-1", "A" + "B" * 20],
          good_values=["ZZ_NOT_IN_REFERENCE"]),
    _attr(R, "ExportDate", bad_values=BAD_DATES, good_values=GOOD_DATES),
    _attr(R, "WindowStart", bad_values=BAD_DATES, good_values=GOOD_DATES),
    _attr(CASE, "CaseNumber", bad_values=["SIEG-26-0412", "sieg-2026-0412", "SIEG-2026-412",
                                          "SIEG2026-0412", "S-2026-0412"],
          # the prefix differing from the file's Unit is rule B05, not a schema error
          good_values=["ZZ_X-2026-0001", "OTHER-2026-0412"]),
    _attr(CASE, "LastModified", bad_values=BAD_LOCAL, good_values=GOOD_LOCAL),
    _attr(CASE, "Status", bad_values=["open", "DELETED", "VOID "],
          good_values=["OPEN", "CLOSED", "VOID"]),
    _attr(AG, "Type", bad_values=["ISP", "isp-dop", "STATE"],
          good_values=["ISP-DOP", "ISP-DCI", "MEG", "TF", "LOCAL"]),
    _attr(AG, "ORI", bad_values=["IL084980", "il0849800", "IL08498000"]),
    _attr(SUBJ, "SubjectId", bad_values=["0", "x", "01", "-1"], good_values=["42"]),
    _attr(NAME, "Last", bad_values=["x" * 61], good_values=["x" * 60, "Müller-Ñúñez"]),
    _attr(NAME, "First", bad_values=["x" * 61], good_values=["x" * 60]),
    _attr(NAME, "Middle", required=False, bad_values=["x" * 61], good_values=["x" * 60]),
    _attr(DEF, "SubjectId", bad_values=["0", "x"], good_values=["9"]),
    _attr(DEF, "ReferralDate", bad_values=BAD_DATES, good_values=GOOD_DATES),
    _attr(DEF, "Pathway", bad_values=["0", "6", "OI", "05"], good_values=["1", "2", "3", "4", "5"]),
    _attr(APP, "Role", bad_values=["DIR", "d", "DSGN"], good_values=["D", "C", "DS"]),
    _attr(APP, "ApproverId", bad_values=["S1", "S" * 13, "s1042"], good_values=["ABCDEFGHIJ12"]),
    _attr(APP, "ApprovedOn", bad_values=BAD_LOCAL, good_values=GOOD_LOCAL),
    _attr(APP, "ApprovingUnit", bad_values=["sieg", "S", "SIEG-1"],
          good_values=["ZZ_NOT_IN_REFERENCE"]),
    _attr(CM, "Agency", bad_values=["x" * 81], good_values=["x" * 80]),
    _attr(CM, "ContactedOn", required=False, bad_values=BAD_DATES, good_values=GOOD_DATES),
    _attr(EV, "Date", bad_values=BAD_DATES, good_values=GOOD_DATES),
    _attr(EV, "Result", bad_values=["ENGAGED", "eng"],
          good_values=["ENG", "TRT", "CMP", "UNS", "NOC"]),
    _attr(PS, "Date", doc="megfull", bad_values=BAD_DATES),
    _attr(PS, "Office", doc="megfull", bad_values=["x" * 81], good_values=["x" * 80]),
    _attr(ED, "Date", doc="megfull", bad_values=BAD_DATES),
    _attr(ED, "Method", doc="megfull", bad_values=["SOLD", "destroyed"],
          good_values=["DESTROYED", "RETURNED", "RETAINED"]),
)

STRUCTURE_BAD = [
    bad("root-unknown-child", "meg", R, append("<Summary/>"), "Summary"),
    bad("root-text-content", "meg", R, append("stray"), "CaseActivityExport"),
    bad("root-unknown-attribute", "meg", R, lambda el: el.set("Source", "x"),
        "CaseActivityExport", "Source"),
    # §2.2 Case children: presence, order, cardinality
    bad("OriginatingAgency-missing", "meg", AG, drop(), "OriginatingAgency"),
    bad("OriginatingAgency-dup", "meg", AG, dup(), "OriginatingAgency"),
    bad("OriginatingAgency-text", "meg", AG, text("ISP"), "OriginatingAgency"),
    bad("OriginatingAgency-child", "meg", AG, append("<x/>"), "OriginatingAgency"),
    bad("Subjects-missing", "meg", f"{CASE}/m:Subjects", drop(), "Subjects"),
    bad("Subjects-empty", "meg", f"{CASE}/m:Subjects", clear_children(), "Subject"),
    bad("Deflections-missing", "meg", f"{CASE}/m:Deflections", drop(), "Deflections"),
    bad("Deflections-dup", "meg", f"{CASE}/m:Deflections", dup(), "Deflections"),
    bad("case-order", "meg", f"{CASE}/m:OpenedDate", swap_with_next(), "OriginatingAgency"),
    bad("case-order-fips", "meg", f"{CASE}/m:TraCSReportNumber", swap_with_next(), "TraCSReportNumber"),
    bad("case-extra-child", "meg", CASE, append("<Notes/>"), "Notes"),
    bad("case-text-content", "meg", CASE, append("stray"), "Case"),
    # §2.3 Subject
    bad("Name-missing", "meg", NAME, drop(), "Name"),
    bad("Name-dup", "meg", NAME, dup(), "Name"),
    bad("Name-text", "meg", NAME, text("Roe"), "Name"),
    bad("subject-order", "meg", f"{SUBJ}/m:Sex", swap_with_next(), "Race"),
    bad("subject-foreign-child", "meg", f"{CASE}/m:Subjects", append("<Person/>"), "Person"),
    # §2.4 Deflection children: presence, order, cardinality, empty elements
    bad("Approval-dup", "meg", APP, dup(), "Approval"),
    bad("Approval-after-CaseManager", "meg", APP, swap_with_next(), "Approval"),
    bad("Approval-text", "meg", APP, text("yes"), "Approval"),
    bad("CaseManager-dup", "meg", CM, dup(), "CaseManager"),
    bad("CaseManager-text", "meg", CM, text("x"), "CaseManager"),
    bad("Evaluations-missing", "meg", f"{DEF}/m:Evaluations", drop(), "Evaluations"),
    bad("Evaluations-dup", "meg", f"{DEF}/m:Evaluations", dup(), "Evaluations"),
    bad("Evaluations-foreign-child", "meg", f"{DEF}/m:Evaluations", append("<Visit/>"), "Visit"),
    bad("Evaluation-text", "meg", EV, text("x"), "Evaluation"),
    bad("ProsecutorSubmission-dup", "megfull", PS, dup(), "ProsecutorSubmission"),
    bad("ProsecutorSubmission-after-EvidenceDisposal", "megfull", PS, swap_with_next(),
        "ProsecutorSubmission"),
    bad("EvidenceDisposal-dup", "megfull", ED, dup(), "EvidenceDisposal"),
    bad("EvidenceDisposal-after-Outcome", "megfull", ED, swap_with_next(), "EvidenceDisposal"),
    bad("Outcome-first", "meg", DEF, lambda el: el.insert(0, el[-1]), "Outcome"),
    bad("deflection-foreign-child", "meg", DEF, append("<Note/>", first=True), "Note"),
]

STRUCTURE_GOOD = [
    good("no-case", "meg", CASE, drop()),
    good("two-cases", "meg", CASE, dup()),
    good("deflections-empty", "meg", f"{CASE}/m:Deflections", clear_children()),
    good("evaluations-empty", "meg", f"{DEF}/m:Evaluations", clear_children()),
    good("many-evaluations", "meg", EV, dup()),
    good("approval-absent", "meg", APP, drop()),
    good("casemanager-absent", "meg", CM, drop()),
    good("many-subjects", "meg", SUBJ, dup()),
    good("many-deflections", "meg", DEF, dup()),
    good("all-optional-children", "megfull", DEF, lambda el: None),
    # B03 is a rule: a Deflection naming no Subject of the case passes the schema
    good("deflection-unknown-subject", "meg", DEF, lambda el: el.set("SubjectId", "7")),
]


@pytest.mark.parametrize("doc,xpath,mutation,element,attribute", LEAVES[0] + ATTRIBUTES[0]
                         + STRUCTURE_BAD)
def test_breaking_a_rule_is_a_located_error(doc, xpath, mutation, element, attribute):
    assert_fails_naming(mutated(doc, xpath, mutation), element, attribute, DOC_VERSION[doc])


@pytest.mark.parametrize("doc,xpath,mutation", LEAVES[1] + ATTRIBUTES[1] + STRUCTURE_GOOD)
def test_allowed_variation_stays_valid(doc, xpath, mutation):
    assert_valid(mutated(doc, xpath, mutation), DOC_VERSION[doc])
