"""Excerpts of kept raw XML: centred on the error line, numbered as in the delivered file,
masked field by field, read as a stream that stops at the last line needed."""
from __future__ import annotations

import gzip

import pytest

from adapters.registry import field_classes
from stewardship import excerpts as ex
from stewardship.masking import MASK

F = field_classes()


def _big(path, n_lines: int, at: dict[int, str]):
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(at.get(n, f"<summaryUnit>TROOP {n}</summaryUnit>") + "\n"
                      for n in range(1, n_lines + 1))
    return path


def test_excerpt_is_centred_on_a_deep_error_line_and_reading_stops_there(tmp_path, monkeypatch):
    path = _big(tmp_path / "f.xml", 300_000, {
        226_272: "<summaryIncidentType>DRUGS</summaryIncidentType>",
        226_271: "<individualLastName>Featherstonehaugh</individualLastName>",
    })
    read = []
    real = ex._open_text

    def counting(p):
        stream, raw = real(p)
        plain_read = stream.read

        def read_counted(size=-1):
            text = plain_read(size)
            read.append(len(text))
            return text
        stream.read = read_counted
        return stream, raw
    monkeypatch.setattr(ex, "_open_text", counting)
    got = ex.excerpts_for(path, [226_272], F, context=3)
    rows = got[226_272]
    assert [n for n, _ in rows] == list(range(226_269, 226_276))
    text = dict(rows)
    assert text[226_272] == "<summaryIncidentType>DRUGS</summaryIncidentType>"
    assert text[226_271] == f"<individualLastName>{MASK}</individualLastName>"
    # reading stopped within a block of the last line shown, far before the end of the file
    up_to_window = sum(len(f"<summaryUnit>TROOP {n}</summaryUnit>\n") for n in range(1, 226_276))
    assert sum(read) <= up_to_window + ex._BLOCK_CHARS
    assert sum(read) < path.stat().st_size - ex._BLOCK_CHARS


def test_several_error_lines_share_one_pass_and_overlapping_windows(tmp_path):
    path = _big(tmp_path / "f.xml", 100, {})
    got = ex.excerpts_for(path, [10, 12, 50, 101], F, context=2)
    assert [n for n, _ in got[10]] == [8, 9, 10, 11, 12]
    assert [n for n, _ in got[12]] == [10, 11, 12, 13, 14]
    assert [n for n, _ in got[50]] == [48, 49, 50, 51, 52]
    assert 101 not in got  # past the end


def test_an_excerpt_inside_a_container_comment_or_cdata_opened_above_is_masked(tmp_path):
    lines = {
        10: '<OtherForm formType="Citation" formNumber="CT-1"><c xmlns="urn:c">',
        11: "<!-- a comment about Featherstonehaugh",
        12: "<Sex>F</Sex> still commented",
        13: "-->",
        20: "<Sex>F</Sex>",  # inside OtherForm: masked whatever its name
        21: "</c></OtherForm>",
        22: "<Sex>M</Sex>",
        30: "<narrative><![CDATA[first line",
        34: "<Sex>F</Sex> in CDATA",
        35: "]]></narrative><Sex>X</Sex>",
    }
    path = _big(tmp_path / "f.xml", 40, lines)
    got = ex.excerpts_for(path, [12, 20, 22, 34], F, context=1)
    assert dict(got[12])[12] == MASK
    assert dict(got[20])[20] == f"<Sex>{MASK}</Sex>"
    assert dict(got[22])[22] == "<Sex>M</Sex>"
    assert dict(got[22])[21] == "</c></OtherForm>"
    assert "F" not in dict(got[34])[34]
    assert dict(got[34])[35].endswith("<Sex>X</Sex>")


def test_gzip_latin1_crlf_and_long_lines(tmp_path):
    body = ('<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<a>\r\n'
            "<summaryUnit>TROOP \xe9</summaryUnit>\r\n<Sex>" + "M" * 200_000 + "</Sex>\r\n</a>\r\n")
    path = tmp_path / "f.xml"
    with gzip.open(path, "wb") as gz:
        gz.write(body.encode("latin-1"))
    got = ex.excerpts_for(path, [3, 4], F, context=0)
    assert got[3] == [(3, "<summaryUnit>TROOP \xe9</summaryUnit>")]
    n, text = got[4][0]
    assert n == 4 and text.startswith("<Sex>MMM") and text.endswith(" …") and len(text) < 200


def test_entry_excerpts_number_a_record_as_in_the_delivered_file(tmp_path):
    landing = tmp_path / "landing"
    (landing / "quarantine").mkdir(parents=True)
    record = ('<Case xmlns="urn:il:meg:rms:case-activity" CaseNumber="SIEG-2026-0001">\n'
              '  <CountyFIPS>1719</CountyFIPS>\n  <Subjects><Subject SubjectId="1">\n'
              '    <Name Last="Featherstonehaugh" First="Peregrine"/>\n'
              "  </Subject></Subjects>\n</Case>")
    (landing / "quarantine" / "abc.xml").write_text(record, encoding="utf-8")
    entry = {"level": "record", "line": 500, "record_sha256": "abc"}
    got = ex.entry_excerpts(landing, entry, [501, 503], F, context=1)
    assert got["raw"] == "text"
    first, second = got["excerpts"]
    assert first["line"] == 501 and [r["n"] for r in first["rows"]] == [500, 501, 502]
    assert [r["text"] for r in first["rows"] if r["hit"]] == ["  <CountyFIPS>1719</CountyFIPS>"]
    assert second["line"] == 503 and "Featherstonehaugh" not in str(second)
    assert "Peregrine" not in str(second) and 'Last="[masked]"' in str(second)
    # without a classification nothing is shown
    bare = ex.entry_excerpts(landing, entry, [501], context=0)["excerpts"][0]["rows"][0]["text"]
    assert "1719" not in bare
    # past the end of the kept record, and no raw file at all
    assert ex.entry_excerpts(landing, entry, [900], F)["excerpts"][0]["beyond"]
    assert ex.entry_excerpts(landing, {"level": "file", "file_sha256": "zz"}, [1], F) == {
        "raw": "missing", "excerpts": []}


def test_a_binary_file_has_no_excerpt(tmp_path):
    landing = tmp_path / "landing"
    (landing / "quarantine").mkdir(parents=True)
    (landing / "quarantine" / "bin.xml").write_bytes(b"\x00\x01\x02" * 100)
    assert ex.entry_excerpts(landing, {"level": "file", "file_sha256": "bin"}, [1], F)["raw"] \
        == "binary"


def test_a_raw_path_outside_the_landing_area_is_never_read(tmp_path):
    outside = tmp_path / "secret.xml"
    outside.write_text("<a/>")
    landing = tmp_path / "landing"
    landing.mkdir()
    assert ex.raw_file_for(landing, {"raw_path": str(outside)}) is None


@pytest.mark.parametrize("lines, context, wanted", [
    ([5], 3, [(2, 8)]), ([1], 3, [(1, 4)]), ([5, 9], 2, [(3, 11)]), ([5, 20], 2, [(3, 7), (18, 22)]),
])
def test_windows(lines, context, wanted):
    assert ex._windows(lines, context) == wanted


def test_huge_lines_above_and_in_an_excerpt(tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "_BLOCK_CHARS", 1000)  # small blocks: every path of the reader runs
    big = "<Sex>M</Sex>" * 2000  # 24,000 characters on one line
    lines = {2: "<OtherForm formType='x'>" + big, 3: big + "</OtherForm>" + big, 5: big,
             6: "<Sex>F</Sex>"}
    path = _big(tmp_path / "f.xml", 8, lines)
    monkeypatch.setattr(ex, "LINE_HEAD_CHARS", 5000)
    got = ex.excerpts_for(path, [3, 6, 8], F, context=0)
    assert dict(got[3])[3].startswith(f"<Sex>{MASK}</Sex>")  # inside the OtherForm opened above
    assert dict(got[6])[6] == "<Sex>F</Sex>"  # the OtherForm closed on line 3
    assert dict(got[8])[8] == "<summaryUnit>TROOP 8</summaryUnit>"
    one = tmp_path / "one.xml"
    one.write_text("<a>" + big * 3 + "<Sex>F</Sex>")  # a minified file: one line, no break
    assert ex.excerpts_for(one, [1], F)[1][0][1].startswith("<a><Sex>M</Sex>")
    assert ex.excerpts_for(one, [2], F) == {}


def test_a_long_line_is_shown_around_the_field_in_error(tmp_path):
    case = ('<Case CaseNumber="SIEG-2026-0001">' + '<OpenedDate>2026-08-01</OpenedDate>' * 10
            + '<Subject SubjectId="1"><Name Last="Featherstonehaugh" First="Peregrine"/>'
            "<BirthDate>1990-06-17x</BirthDate><Sex>F</Sex></Subject>"
            + '<Subject SubjectId="2"><BirthDate>1991-01-01</BirthDate></Subject>'
            + '<Deflection SubjectId="1" Pathway="6">' + "<Outcome>PENDING</Outcome>" * 10
            + "</Deflection></Case>")
    path = tmp_path / "f.xml"
    path.write_text("<CaseActivityExport>\n" + case + "\n</CaseActivityExport>\n")
    birth = ex.Focus(2, "BirthDate", case.index("<BirthDate>1990") + 1)
    pathway = ex.Focus(2, "Pathway", None)
    got = ex.excerpts_for(path, [birth, pathway, 2], F, context=1, width=80)
    hit = dict(got[birth])[2]
    assert hit.startswith("… ") and hit.endswith(" …") and f"<BirthDate>{MASK}</BirthDate>" in hit
    assert "1990" not in hit and "Feather" not in hit
    assert 'Pathway="6"' in dict(got[pathway])[2]
    assert dict(got[2])[2].startswith('<Case CaseNumber="SIEG-2026-0001">')  # no focus: start
    assert dict(got[birth])[1] == "<CaseActivityExport>"
    # the focus of a finding: the attribute its message names, else its path's last element
    assert ex.focus_of({"line": 2, "column": 5, "path": "/C/Case[1]/Deflections/Deflection[1]",
                        "message": "Element '{u}Deflection', attribute 'Pathway': bad"}) == \
        ex.Focus(2, "Pathway", 5)
    assert ex.focus_of({"line": 2, "column": None, "path": "/C/Case[1]/Subject[2]/BirthDate",
                        "message": "x"}) == ex.Focus(2, "BirthDate", None)
