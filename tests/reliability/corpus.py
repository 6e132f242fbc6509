"""A hostile-input corpus: one TraCS drop whose every file tries one way to break, stall or fool
the pipeline, beside one good file, and what each must end as.

    python -m tests.reliability.corpus OUT_DIR      writes OUT_DIR/drop and OUT_DIR/expected.json

Built from the valid example of tests/ingestion/data (each case changes one thing), so the
expected code is the case's alone. `SECRET_MARKER` is planted where only a resolved entity or a
followed reference could bring it into the warehouse, the reports or the logs.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

BASE = (Path(__file__).resolve().parents[1] / "ingestion" / "data" / "tracs_valid.xml").read_text(
    encoding="utf-8")
SECRET_MARKER = "EXFILTRATED-7f3a9c"
MAX_FILE_BYTES = 32 * 1024 * 1024  # the corpus's configuration (oversize and bomb cases)
NARRATIVE = "<narrative>While on patrol ...</narrative>"
OTHER_FORM_BODY = '<anything xmlns="urn:example:citation">ignored</anything>'
DOCTYPE_AT = '<TraCSExport xmlns="urn:il:isp:tracs:export"'


def name(seq: int, gz: bool = False) -> str:
    return f"TRACS_IL0849800_20261125T013004_{seq:04d}.xml" + (".gz" if gz else "")


def _doctype(decl: str) -> str:
    head, rest = BASE.split("\n", 1)
    return f"{head}\n{decl}\n{rest}"


def cases(secret_file: Path) -> list[dict]:
    """Each case: seq, what, the file's bytes (or a special kind), and the outcome: `codes`
    (file-level, quarantined), `loaded` (file loaded; `record_codes` its quarantined records),
    or `ignored` (never a data file)."""
    flood = "<x/>" * 200_000
    return [
        dict(what="good", data=BASE, loaded=True),
        dict(what="xxe (external entity)", codes=["F06"], data=_doctype(
            f'<!DOCTYPE TraCSExport [<!ENTITY xxe SYSTEM "file://{secret_file}">]>').replace(
            "TROOP 13", "&xxe;", 1)),
        dict(what="billion laughs", codes=["F06"], data=_doctype(
            '<!DOCTYPE TraCSExport [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                      for i in range(8)) + "]>").replace("TROOP 13", "&i;", 1)),
        dict(what="external DTD", codes=["F06"], data=_doctype(
            f'<!DOCTYPE TraCSExport SYSTEM "file://{secret_file}">')),
        dict(what="XInclude in an OtherForm", codes=["F06"], data=BASE.replace(
            OTHER_FORM_BODY, '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                             f'href="file://{secret_file}" parse="text"/>')),
        dict(what="schema location hint in an OtherForm", codes=["F06"], data=BASE.replace(
            OTHER_FORM_BODY, '<anything xmlns="urn:example:citation" '
                             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                             f'xsi:schemaLocation="urn:example:citation file://{secret_file}"/>')),
        dict(what="deep nesting", codes=["F01"], data=BASE.replace(
            OTHER_FORM_BODY, "<d>" * 5000 + "</d>" * 5000)),
        dict(what="huge text node (12 MB narrative)", loaded=True, data=BASE.replace(
            NARRATIVE, "<narrative>" + "word " * 2_500_000 + "</narrative>", 1)),
        dict(what="UTF-16", codes=["F01"], data=BASE.replace('encoding="UTF-8"', 'encoding="UTF-16"')
             .encode("utf-16")),
        dict(what="declared windows-1252", codes=["F01"],
             data=BASE.replace('encoding="UTF-8"', 'encoding="windows-1252"')),
        dict(what="truncated", codes=["F01"], data=BASE[: len(BASE) // 2]),
        dict(what="undeclared entity", codes=["F01"], data=BASE.replace("TROOP 13", "&nope;", 1)),
        dict(what="gzip bomb (kilobytes inflating past the size limit)", codes=["F07"], gz=True,
             data=BASE.replace(NARRATIVE, "<narrative>" + " " * (MAX_FILE_BYTES + 1024) + "x"
                               "</narrative>", 1)),
        dict(what="over the size limit, by its listing", codes=["F07"],
             data=BASE.replace(NARRATIVE, "<narrative>" + "y" * (MAX_FILE_BYTES + 1) + "</narrative>",
                               1)),
        dict(what="element flood in a narrative (200,000 elements)", loaded=True,
             record_codes=["S01"], data=BASE.replace(NARRATIVE, f"<narrative>{flood}</narrative>", 1)),
        dict(what="element flood under the root (2,000,000 elements)", codes=["F08", "F09"],
             data=BASE.replace("  <Contact contactId=\"C-26-00012345\">",
                               "<y/>" * 2_000_000 + "  <Contact contactId=\"C-26-00012345\">", 1)),
        dict(what="wrong checksum sidecar", codes=["F04"], data=BASE, sidecar=b"0" * 64),
        dict(what="a link to /dev/zero named as a data file", kind="symlink", ignored=True),
        dict(what="a FIFO named as a data file", kind="fifo", ignored=True),
        dict(what="a name with a space and no pattern", kind="oddname", ignored=True),
    ]


def write(out: Path) -> dict:
    drop = out / "drop"
    drop.mkdir(parents=True)
    secret_file = out / "secret.txt"
    secret_file.write_text(SECRET_MARKER + "\n", encoding="ascii")
    expected = {}
    for seq, case in enumerate(cases(secret_file), start=1):
        kind = case.get("kind")
        fname = name(seq, case.get("gz", False))
        if kind == "symlink":
            os.symlink("/dev/zero", drop / fname)
        elif kind == "fifo":
            os.mkfifo(drop / fname)
        elif kind == "oddname":
            fname = f"TRACS IL0849800 {seq}.xml"
            (drop / fname).write_text(BASE, encoding="utf-8")
        else:
            data = case["data"]
            raw = data.encode("utf-8") if isinstance(data, str) else data
            if case.get("gz"):
                raw = gzip.compress(raw, compresslevel=9)
            (drop / fname).write_bytes(raw)
        sidecar = case.get("sidecar")
        if sidecar is None and (drop / fname).is_file() and not (drop / fname).is_symlink():
            digest = hashlib.sha256((drop / fname).read_bytes()).hexdigest()
            sidecar = digest.encode()
        if sidecar is not None or kind in ("symlink", "fifo"):
            (drop / f"{fname}.sha256").write_bytes(
                (sidecar or b"0" * 64) + f"  {fname}\n".encode())
        expected[fname] = {k: v for k, v in case.items() if k not in ("data", "sidecar")}
    (out / "expected.json").write_text(json.dumps(expected, indent=2), encoding="utf-8")
    return expected


if __name__ == "__main__":
    write(Path(sys.argv[1]))
