"""Validation and extraction of single files: every F/S/B code on hand-written documents
(file:// source; the same code path as SFTP after the download).

Every test runs twice: with pass 2 replaying the tree pass 1 kept while the file downloaded
(one parse, as for every file up to document.KEEP_TREE_MAX_BYTES), and with pass 2 parsing the
landed file again (as for larger files)."""
from __future__ import annotations

import gzip
import stat
from pathlib import Path

import pytest

from ingestion import document
from tests.ingestion.helpers import (
    MEG_NAME,
    TRACS_NAME,
    local_source,
    meg_doc,
    put_meg,
    put_tracs,
    read_batch,
    read_table,
    tracs_doc,
)


@pytest.fixture(autouse=True, params=["one parse", "two parses"])
def parses(request, monkeypatch):
    if request.param == "two parses":
        monkeypatch.setattr(document, "KEEP_TREE_MAX_BYTES", -1)
    return request.param


PERSONAL = ("Núñez", "José", "Doe", "John", "1982-08-08", "1988-02-14", "Roe", "Strauß")


def _tracs(tmp_path, run_files, doc, name=TRACS_NAME, **kw):
    src = local_source(tmp_path / "drop")
    put_tracs(tmp_path / "drop", name, doc, **kw)
    _, result = run_files(src)
    assert result.status == "ok", result.error
    return result


def _meg(tmp_path, run_files, doc, name=MEG_NAME, unit="SIEG"):
    src = local_source(tmp_path / "megdrop", "meg", unit=unit)
    put_meg(tmp_path / "megdrop", name, doc)
    _, result = run_files(src)
    assert result.status == "ok", result.error
    return result


def _codes(result) -> list[str]:
    return sorted(r["code"] for r in read_table(result.batch_dir, "finding"))


def _ledger(result) -> dict:
    (row,) = read_table(result.batch_dir, "file_ledger")
    return row


def _no_personal_data(batch_dir: Path):
    for p in batch_dir.iterdir():
        text = p.read_text(encoding="utf-8")
        for value in PERSONAL:
            assert value not in text, f"{value!r} in {p.name}"


# -- valid files ----------------------------------------------------------------------------------

def test_valid_tracs_file_extracts_typed_rows_with_lineage(tmp_path, run_files):
    result = _tracs(tmp_path, run_files, tracs_doc())
    b = result.batch_dir
    forms = read_table(b, "stg_tracs__field_report")
    assert [f["record_id"] for f in forms] == ["FR-26-0001234", "FR-26-0001235"]
    f0 = forms[0]
    # libxml2 gives a multi-line start tag the line where it ends
    assert f0["line"] == "7" and f0["file_name"] == TRACS_NAME and len(f0["file_sha256"]) == 64
    assert f0["export_date"] == "2026-11-25" and f0["county_fips"] == "17199"
    assert f0["originating_agency_type"] == "ISP_DOP"
    assert forms[1]["time_occurred"] == "" and forms[1]["originating_agency_type"] == "ISP_DCI"
    inds = read_table(b, "stg_tracs__individual")
    assert len(inds) == 3
    # person key of the rules' test vector (Núñez, José, 1982-08-08) with the test secret
    assert inds[1]["person_key"] == "477d973dab14ba41452cb3258f9c951e2f2ff4d4dc7a244ce482fee479a7c60a"
    assert inds[2]["person_key"] == "" and inds[2]["sex"] == ""  # blank -> NULL
    (d,) = read_table(b, "stg_tracs__deflection")
    assert d["pathway"] == "OFFICER_INTERVENTION" and d["approver_role"] == "DESIGNEE"
    # 23:02 at -07:00 is 00:02 on the 25th in Chicago: the offset is kept, the date is Chicago's
    assert d["approved_at"] == "2026-11-24T23:02:00-07:00" and d["approval_date"] == "2026-11-25"
    assert d["age_at_referral"] == "44" and d["case_manager_contact_date"] == ""
    (item,) = read_table(b, "stg_tracs__evidence_item")
    assert item["seized"] == "Y" and item["item_status"] == "HELD"
    assert read_table(b, "finding") == [] and read_table(b, "quarantine") == []
    led = _ledger(result)
    assert led["status"] == "loaded" and led["records_loaded"] == "2"
    assert read_batch(b)["records_extracted"] == 2
    _no_personal_data(b)


def test_valid_meg_iso_8859_1_file(tmp_path, run_files):
    result = _meg(tmp_path, run_files, meg_doc())
    b = result.batch_dir
    cases = read_table(b, "stg_meg__case")
    assert [c["record_id"] for c in cases] == ["SIEG/SIEG-2026-0412", "SIEG/SIEG-2026-0413"]
    assert cases[0]["export_date"] == "2027-01-20" and cases[0]["originating_agency_type"] == "ISP_DOP"
    assert cases[1]["tracs_report_number"] == "" and cases[1]["originating_agency_type"] == "TASK_FORCE"
    subjects = read_table(b, "stg_meg__subject")
    assert subjects[0]["person_key"] == "477d973dab14ba41452cb3258f9c951e2f2ff4d4dc7a244ce482fee479a7c60a"
    assert subjects[1]["person_key"] == ""  # no birth date: no key
    defl = read_table(b, "stg_meg__deflection")
    assert defl[0]["pathway"] == "OFFICER_INTERVENTION" and defl[0]["approval_date"] == "2026-11-24"
    assert defl[0]["approved_at"] == "2026-11-24T22:02:00" and defl[0]["age_at_referral"] == "44"
    assert defl[1]["approver_role"] == "" and defl[1]["outcome"] == "UNSUCCESSFUL"
    assert defl[1]["evidence_disposal_method"] == "DESTROYED"
    evals = read_table(b, "stg_meg__evaluation")
    assert [(e["subject_id"], e["evaluation_date"], e["result"]) for e in evals] == [
        ("1", "2027-01-15", "ENG"), ("1", "2027-01-18", "TRT")]
    _no_personal_data(b)


def test_utf8_bom_is_accepted(tmp_path, run_files):
    result = _tracs(tmp_path, run_files, b"\xef\xbb\xbf" + tracs_doc().encode())
    assert _ledger(result)["status"] == "loaded"


def test_gzip_file_is_decompressed(tmp_path, run_files):
    result = _tracs(tmp_path, run_files, tracs_doc(), gz=True)
    led = _ledger(result)
    assert led["status"] == "loaded" and led["remote_name"].endswith(".xml.gz")


# -- file-level codes --------------------------------------------------------------------------

def _file_quarantined(result, code):
    led = _ledger(result)
    assert led["status"] == "quarantined"
    assert _codes(result) == [code]
    (q,) = read_table(result.batch_dir, "quarantine")
    assert q["level"] == "file" and q["codes"] == code and q["file_sha256"] == led["sha256"]
    raw = Path(q["raw_path"])
    assert raw.exists() and stat.S_IMODE(raw.stat().st_mode) == 0o600
    for table in ("stg_tracs__field_report", "stg_meg__case", "stg_tracs__individual"):
        assert read_table(result.batch_dir, table) == []
    return read_table(result.batch_dir, "finding")[0]


@pytest.mark.parametrize("doc", [
    tracs_doc()[:-300],  # truncated
    tracs_doc().replace("</summaryUnit>", "</summaryUnitX>", 1),
    tracs_doc().replace('encoding="UTF-8"', 'encoding="windows-1252"'),
    tracs_doc().encode("utf-16"),
    tracs_doc().replace("Núñez", "N\udcffez").encode("utf-8", "surrogateescape"),  # bad UTF-8
    b"",
])
def test_f01_not_well_formed_or_bad_encoding(tmp_path, run_files, doc):
    f = _file_quarantined(_tracs(tmp_path, run_files, doc), "F01")
    assert f["level"] == "file"


def test_f01_after_many_records_emits_none_of_them(tmp_path, run_files):
    doc = tracs_doc().replace("</TraCSExport>", "<Contact contactId='C-26-00000001'></Contact")
    _file_quarantined(_tracs(tmp_path, run_files, doc), "F01")


@pytest.mark.parametrize("old,new", [
    ("<TraCSExport ", "<TraCSExportX "),
    ('xmlns="urn:il:isp:tracs:export"', 'xmlns="urn:other"'),
])
def test_f02_wrong_root_or_namespace(tmp_path, run_files, old, new):
    doc = tracs_doc().replace(old, new).replace("</TraCSExport>", "</TraCSExportX>" if "X " in new
                                                else "</TraCSExport>")
    _file_quarantined(_tracs(tmp_path, run_files, doc), "F02")


def test_f02_meg_document_in_a_tracs_drop(tmp_path, run_files):
    _file_quarantined(_tracs(tmp_path, run_files, meg_doc()), "F02")


def test_f03_unsupported_version_alone(tmp_path, run_files):
    # an unsupported version is F03 alone, even with other problems in the file
    doc = tracs_doc().replace('schemaVersion="1.1"', 'schemaVersion="9.0"').replace(
        "<summaryCountyCode>199", "<summaryCountyCode>XYZ")
    f = _file_quarantined(_tracs(tmp_path, run_files, doc), "F03")
    assert f["line"] == "4"


def test_f04_checksum_mismatch(tmp_path, run_files):
    result = _tracs(tmp_path, run_files, tracs_doc(), sidecar=b"0" * 64 + f"  {TRACS_NAME}\n".encode())
    _file_quarantined(result, "F04")


@pytest.mark.parametrize("sidecar", [
    b"not a checksum\n",
    b"",
])
def test_f04_malformed_sidecar(tmp_path, run_files, sidecar):
    _file_quarantined(_tracs(tmp_path, run_files, tracs_doc(), sidecar=sidecar), "F04")


@pytest.mark.parametrize("name,doc", [
    ("TRACS_IL0849801_20261125T013004_0001.xml", tracs_doc()),  # ORI differs
    ("TRACS_IL0849800_20261124T013004_0001.xml", tracs_doc()),  # date differs
    # 05:30Z is still the 24th in Chicago: the name's 25th differs
    (TRACS_NAME, tracs_doc().replace("2026-11-25T01:30:04-06:00", "2026-11-25T05:30:04Z")),
])
def test_f05_tracs_name_differs_from_document(tmp_path, run_files, name, doc):
    _file_quarantined(_tracs(tmp_path, run_files, doc, name=name), "F05")


def test_f05_tracs_utc_created_at_same_chicago_date_is_fine(tmp_path, run_files):
    doc = tracs_doc().replace("2026-11-25T01:30:04-06:00", "2026-11-25T07:30:04Z")
    assert _ledger(_tracs(tmp_path, run_files, doc))["status"] == "loaded"


@pytest.mark.parametrize("name,doc,unit", [
    ("CaseActivity_SIEG_20270121.xml", meg_doc(), "SIEG"),  # date differs
    ("CaseActivity_SIEG_20270120.xml", meg_doc().replace(b'Unit="SIEG"', b'Unit="MANS"'), "SIEG"),
    ("CaseActivity_MANS_20270120.xml", meg_doc().replace(b'Unit="SIEG"', b'Unit="MANS"'), "SIEG"),
])
def test_f05_meg_name_unit_date_and_configured_unit(tmp_path, run_files, name, doc, unit):
    _file_quarantined(_meg(tmp_path, run_files, doc, name=name, unit=unit), "F05")


@pytest.mark.parametrize("prolog", [
    '<!DOCTYPE TraCSExport [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
    '<!DOCTYPE TraCSExport SYSTEM "http://127.0.0.1:1/x.dtd">\n',
    '<!-- c --><!DOCTYPE TraCSExport [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n',
])
def test_f06_dtd_and_entities_nothing_resolved(tmp_path, run_files, prolog):
    doc = tracs_doc().replace("?>\n", "?>\n" + prolog, 1).replace(
        "While on patrol ...", "&xxe;" if "xxe" in prolog else "While on patrol ...")
    result = _tracs(tmp_path, run_files, doc)
    _file_quarantined(result, "F06")
    for p in result.batch_dir.iterdir():
        assert "root:" not in p.read_text()


XI = 'xmlns:xi="http://www.w3.org/2001/XInclude"'
XSI_NS = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


@pytest.mark.parametrize("old,new", [
    # an XInclude element inside a record's narrative
    ("While on patrol ...", f'<xi:include {XI} href="file:///etc/passwd" parse="text"/>'),
    # schema location hints on an element of a record, and on the record itself
    ("<summary>", f'<summary {XSI_NS} xsi:schemaLocation="urn:x file:///etc/x.xsd">'),
    ('<FieldReport formNumber="FR-26-0001235"',
     (f'<FieldReport {XSI_NS} xsi:noNamespaceSchemaLocation="http://127.0.0.1:1/x.xsd" '
      'formNumber="FR-26-0001235"')),
])
def test_f06_external_reference_inside_a_record(tmp_path, run_files, old, new):
    assert old in tracs_doc()
    f = _file_quarantined(_tracs(tmp_path, run_files, tracs_doc().replace(old, new, 1)), "F06")
    assert "/FieldReport[" in f["path"]


@pytest.mark.parametrize("root_declares,include", [
    # the namespace spelled with a character reference: the parser resolves it
    ("", '<xi:include xmlns:xi="http&#58;//www.w3.org/2001/XInclude" href="file:///etc/x"/>'),
    # as the default namespace, no prefix
    ("", '<include xmlns="http://www.w3.org/2001/XInclude" href="file:///etc/x"/>'),
    # declared once on the root, used deep inside the second record
    (XI, '<xi:include href="file:///etc/x"/>'),
])
def test_f06_however_the_namespace_is_declared(tmp_path, run_files, root_declares, include):
    doc = tracs_doc().replace("<TraCSExport ", f"<TraCSExport {root_declares} ", 1)
    at = doc.index("<narrative/>", doc.index('formNumber="FR-26-0001235"'))
    doc = doc[:at] + f"<narrative>{include}</narrative>" + doc[at + len("<narrative/>"):]
    f = _file_quarantined(_tracs(tmp_path, run_files, doc), "F06")
    assert "/FieldReport[" in f["path"] and "XInclude" in f["message"]


def test_nothing_is_searched_for_references_until_their_namespace_is_declared(
        tmp_path, run_files, monkeypatch):
    from ingestion import document

    searched = []
    query = document._REFERENCES
    monkeypatch.setattr(document, "_REFERENCES", lambda el: searched.append(el) or query(el))
    result = _tracs(tmp_path, run_files, tracs_doc())
    assert _codes(result) == [] and searched == []
    # declared (and never used): every record is searched, and the file loads as before
    doc = tracs_doc().replace("<TraCSExport ", f"<TraCSExport {XSI_NS} ", 1)
    result = _tracs(tmp_path / "declared", run_files, doc)
    assert _codes(result) == [] and len(searched) == result.counts["records_extracted"] > 0


def test_attribute_named_like_a_hint_outside_its_namespace_is_no_reference(tmp_path, run_files):
    # only the XML Schema instance namespace's attributes are hints: this one is a schema error
    doc = tracs_doc().replace("<summary>", '<summary schemaLocation="urn:x x.xsd">', 1)
    result = _tracs(tmp_path, run_files, doc)
    _record_quarantined(result, "FR-26-0001234", "S01")


def test_record_with_a_large_attachment_is_checked_in_place(tmp_path, run_files, monkeypatch):
    """A record of few elements is moved into the validation wrapper whatever its size (copying
    a 300 KB attachment costs its size); its findings keep their lines past 65,535."""
    import copy

    copies = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda x, *a: copies.append(x) or deepcopy(x, *a))
    blob = "\n".join(["On patrol."] * 70_000)  # 70,000 lines in one text node
    doc = tracs_doc().replace("While on patrol ...", blob, 1).replace(
        "JVBERi0xLjcKJeLjz9MK", "not base64!", 1)
    result = _tracs(tmp_path, run_files, doc)
    _record_quarantined(result, "FR-26-0001234", "S01")
    (bad,) = read_table(result.batch_dir, "finding")
    assert int(bad["line"]) == doc[:doc.index("not base64!")].count("\n") + 1 > 65_535
    assert bad["path"].endswith("/FieldReport[1]/attachments/attachment")
    assert copies == []
    assert [f["record_id"] for f in read_table(result.batch_dir, "stg_tracs__field_report")] == [
        "FR-26-0001235"]


def test_f07_broken_gzip(tmp_path, run_files):
    src = local_source(tmp_path / "drop")
    data = gzip.compress(tracs_doc().encode())[:-40]
    put_tracs(tmp_path / "drop", TRACS_NAME + ".gz", data)
    _, result = run_files(src)
    _file_quarantined(result, "F07")


def test_f07_over_the_size_limit_after_decompressing(tmp_path, run_files):
    src = local_source(tmp_path / "drop")
    put_tracs(tmp_path / "drop", TRACS_NAME, tracs_doc(), gz=True)
    _, result = run_files(src, max_file_bytes=3000)  # the gzip is smaller, the XML is not
    f = _file_quarantined(result, "F07")
    assert "size limit" in f["message"]


@pytest.mark.parametrize("old,new", [
    ('exportId="5b0c2f7e-3c1a-4f43-9a51-0d6f1f3e2a10"', 'exportId="not-a-uuid"'),
    ('agencyORI="IL0849800"', ''),
    ("</TraCSExport>", "<Stray/></TraCSExport>"),
    ("<OtherForm ", "<Stray/><OtherForm "),
    ("</TraCSExport>", "<Contact contactId='C-26-00000009'/></TraCSExport>"),
    ('<Contact contactId="C-26-00012346">', '<Contact contactId="C-26-00012346">loose text'),
    ('formType="Citation" ', ''),
])
def test_f08_schema_error_outside_every_record(tmp_path, run_files, old, new):
    doc = tracs_doc().replace(old, new, 1)
    f = _file_quarantined(_tracs(tmp_path, run_files, doc), "F08")
    assert f["path"].startswith("/TraCSExport")


def test_f08_meg_root_attribute(tmp_path, run_files):
    _file_quarantined(_meg(tmp_path, run_files, meg_doc().replace(b' WindowStart="2026-12-21"', b"")),
                      "F08")


# -- record-level codes ------------------------------------------------------------------------

def _record_quarantined(result, record_id, codes):
    qs = [q for q in read_table(result.batch_dir, "quarantine") if q["record_id"] == record_id]
    assert qs and all(q["codes"] == codes and q["level"] == "record" for q in qs)
    for q in qs:
        raw = Path(q["raw_path"])
        assert raw.exists() and stat.S_IMODE(raw.stat().st_mode) == 0o600
        assert raw.name == q["record_sha256"] + ".xml"
    assert _ledger(result)["status"] == "loaded"  # the rest of the file proceeds
    return qs


def test_s01_quarantines_that_record_only_with_every_error(tmp_path, run_files):
    doc = tracs_doc().replace("<summaryCountyCode>199", "<summaryCountyCode>19X").replace(
        "<individualDOB>1988-02-14", "<individualDOB>1988-02-31")
    result = _tracs(tmp_path, run_files, doc)
    _record_quarantined(result, "FR-26-0001234", "S01")
    findings = read_table(result.batch_dir, "finding")
    assert [f["code"] for f in findings] == ["S01", "S01"]
    county, dob = findings
    assert county["line"] == "15" and county["path"] == (
        "/TraCSExport/Contact[1]/FieldReport[1]/summary/summaryCountyCode")
    assert dob["line"] == "24" and dob["path"].endswith("individuals/individual[1]/individualDOB")
    assert "1988-02-31" not in dob["message"]  # a birth date never reaches a finding
    assert [f["record_id"] for f in read_table(result.batch_dir, "stg_tracs__field_report")] == [
        "FR-26-0001235"]


def test_s01_contact_attribute_error_applies_to_each_field_report_of_it(tmp_path, run_files):
    doc = tracs_doc().replace('contactId="C-26-00012345"', 'contactId="bad"')
    doc = doc.replace("<OtherForm ", """<FieldReport formNumber="FR-26-0009999" formVersion="1"
      status="Accepted" lastModified="2026-11-24T22:14:03-06:00">""" + _fr_body() + """</FieldReport>
    <OtherForm """)
    result = _tracs(tmp_path, run_files, doc)
    _record_quarantined(result, "FR-26-0001234", "S01")
    _record_quarantined(result, "FR-26-0009999", "S01")
    for f in read_table(result.batch_dir, "finding"):
        assert f["path"] == "/TraCSExport/Contact[1]" and f["line"] == "5"
    assert len(read_table(result.batch_dir, "stg_tracs__field_report")) == 1


def _fr_body() -> str:
    doc = tracs_doc()
    start = doc.index("<summary>", doc.index("FR-26-0001235"))
    end = doc.index("</FieldReport>", start)
    return doc[start:end]


def test_s01_meg_case(tmp_path, run_files):
    result = _meg(tmp_path, run_files, meg_doc().replace(b'Pathway="5"', b'Pathway="6"'))
    _record_quarantined(result, "SIEG/SIEG-2026-0412", "S01")
    assert [c["record_id"] for c in read_table(result.batch_dir, "stg_meg__case")] == [
        "SIEG/SIEG-2026-0413"]


def test_schema_failure_gets_only_s01(tmp_path, run_files):
    doc = tracs_doc().replace("<individualDisposition>AR", "<individualDisposition>CD").replace(
        "<summaryCountyCode>199", "<summaryCountyCode>19X")
    result = _tracs(tmp_path, run_files, doc)
    assert _codes(result) == ["S01"]


def test_b01_cd_without_deflection(tmp_path, run_files):
    doc = tracs_doc().replace("<individualDisposition>AR", "<individualDisposition>CD")
    result = _tracs(tmp_path, run_files, doc)
    _record_quarantined(result, "FR-26-0001234", "B01")
    (f,) = read_table(result.batch_dir, "finding")
    assert f["line"] == "19" and f["path"] == (
        "/TraCSExport/Contact[1]/FieldReport[1]/individuals/individual[@seq='1']")


def test_b02_deflection_with_other_disposition(tmp_path, run_files):
    doc = tracs_doc().replace("<individualDisposition>CD", "<individualDisposition>AR")
    _record_quarantined(_tracs(tmp_path, run_files, doc), "FR-26-0001234", "B02")


def test_b04_duplicate_seq_within_a_form(tmp_path, run_files):
    doc = tracs_doc().replace('<individual seq="2">', '<individual seq="1">')
    _record_quarantined(_tracs(tmp_path, run_files, doc), "FR-26-0001234", "B04")


def test_b04_same_form_twice_in_a_file_quarantines_every_copy(tmp_path, run_files):
    doc = tracs_doc().replace('formNumber="FR-26-0001235"', 'formNumber="FR-26-0001234"')
    result = _tracs(tmp_path, run_files, doc)
    qs = _record_quarantined(result, "FR-26-0001234", "B04")
    assert len(qs) == 2 and qs[0]["quarantine_id"] != qs[1]["quarantine_id"]
    assert read_table(result.batch_dir, "stg_tracs__field_report") == []


def test_b03_deflection_subject_not_in_case(tmp_path, run_files):
    doc = meg_doc().replace(b'<Deflection SubjectId="1" ReferralDate="2026-11-24"',
                            b'<Deflection SubjectId="7" ReferralDate="2026-11-24"')
    _record_quarantined(_meg(tmp_path, run_files, doc), "SIEG/SIEG-2026-0412", "B03")


@pytest.mark.parametrize("old,new", [
    (b'<Subject SubjectId="2">', b'<Subject SubjectId="1">'),
    (b"</Deflection>\n    </Deflections>\n  </Case>\n  <Case CaseNumber=\"SIEG-2026-0413\"",
     (b"</Deflection><Deflection SubjectId=\"1\" ReferralDate=\"2026-11-24\" Pathway=\"1\">"
      b"<Evaluations/><Outcome>PENDING</Outcome></Deflection>\n    </Deflections>\n  </Case>\n"
      b"  <Case CaseNumber=\"SIEG-2026-0413\"")),
])
def test_b04_meg_duplicates_within_a_case(tmp_path, run_files, old, new):
    doc = meg_doc()
    assert old in doc
    _record_quarantined(_meg(tmp_path, run_files, doc.replace(old, new)), "SIEG/SIEG-2026-0412", "B04")


def test_b04_meg_case_twice_in_a_file(tmp_path, run_files):
    doc = meg_doc().replace(b'CaseNumber="SIEG-2026-0413"', b'CaseNumber="SIEG-2026-0412"')
    qs = _record_quarantined(_meg(tmp_path, run_files, doc), "SIEG/SIEG-2026-0412", "B04")
    assert len(qs) == 2


def test_b05_case_number_of_another_unit(tmp_path, run_files):
    doc = meg_doc().replace(b'CaseNumber="SIEG-2026-0413"', b'CaseNumber="MANS-2026-0413"')
    _record_quarantined(_meg(tmp_path, run_files, doc), "SIEG/MANS-2026-0413", "B05")


def test_several_rules_on_one_record_are_all_reported(tmp_path, run_files):
    doc = meg_doc().replace(b'CaseNumber="SIEG-2026-0412"', b'CaseNumber="MANS-2026-0412"').replace(
        b'<Deflection SubjectId="1" ReferralDate="2026-11-24"',
        b'<Deflection SubjectId="7" ReferralDate="2026-11-24"')
    _record_quarantined(_meg(tmp_path, run_files, doc), "SIEG/MANS-2026-0412", "B03,B05")


def test_unchanged_quarantined_record_in_two_files_is_one_entry(tmp_path, run_files):
    src = local_source(tmp_path / "megdrop", "meg")
    bad = meg_doc().replace(b'Pathway="5"', b'Pathway="6"')
    put_meg(tmp_path / "megdrop", "CaseActivity_SIEG_20270120.xml", bad)
    put_meg(tmp_path / "megdrop", "CaseActivity_SIEG_20270121.xml",
            bad.replace(b'ExportDate="2027-01-20"', b'ExportDate="2027-01-21"'))
    _, result = run_files(src)
    qs = read_table(result.batch_dir, "quarantine")
    assert len(qs) == 1 and qs[0]["record_id"] == "SIEG/SIEG-2026-0412"
    # each arrival is still a finding naming its file
    assert sorted(f["file_name"] for f in read_table(result.batch_dir, "finding")) == [
        "CaseActivity_SIEG_20270120.xml", "CaseActivity_SIEG_20270121.xml"]
