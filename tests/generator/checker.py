"""A small, independent checker of the quality rules F01–F08, S01, B01–B05 (deflection-rules.md §5)
for the generator's tests: it tells which code a file or record really fails with. Deliberately
separate from the pipeline's validator."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
import zlib
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from adapters.meg_reports.adapter import SCHEMAS as MEG
from adapters.tracs.adapter import SCHEMAS as TRACS
from schemas.registry import UnsupportedVersion, get_schema

CHICAGO = ZoneInfo("America/Chicago")
SIDECAR = re.compile(r"^([0-9a-f]{64})  (\S+)\n$")
DECL_ENCODING = re.compile(rb'^<\?xml[^>]*encoding=["\']([A-Za-z0-9._-]+)["\']')
TRACS_NAME = re.compile(r"^TRACS_([A-Z0-9]{9})_(\d{8})T(\d{6})_(\d{4})\.xml(\.gz)?$")
MEG_NAME = re.compile(r"^CaseActivity_([A-Z][A-Z0-9_]{1,19})_(\d{8})\.xml$")


class Result:
    def __init__(self):
        self.file_code: str | None = None
        self.records: Counter = Counter()  # (code, record_id) -> copies
        self.root = None


def read_bytes(path: Path) -> tuple[str | None, bytes | None]:
    """F04 then F07: the transfer and the container."""
    data = path.read_bytes()
    if path.name.startswith("TRACS_"):
        sidecar = path.with_name(path.name + ".sha256")
        m = SIDECAR.match(sidecar.read_text(encoding="ascii"))
        if not m or m.group(2) != path.name or m.group(1) != hashlib.sha256(data).hexdigest():
            return "F04", None
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return "F07", None
    return None, data


def check_file(path: Path, kind: str) -> Result:
    res = Result()
    code, data = read_bytes(path)
    if code:
        res.file_code = code
        return res
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: outside the accepted encodings
        res.file_code = "F01"
        return res
    m = DECL_ENCODING.match(body)
    if m and m.group(1).decode().upper() not in ("UTF-8", "ISO-8859-1"):
        res.file_code = "F01"
        return res
    if b"<!DOCTYPE" in body[:2000]:
        res.file_code = "F06"
        return res
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        res.file_code = "F01"
        return res
    schemas = TRACS if kind == "tracs" else MEG
    ns = schemas.namespace
    want = "TraCSExport" if kind == "tracs" else "CaseActivityExport"
    if root.tag != f"{{{ns}}}{want}":
        res.file_code = "F02"
        return res
    version = root.get("schemaVersion" if kind == "tracs" else "Version")
    try:
        schema = get_schema(schemas, version).xsd
    except UnsupportedVersion:
        res.file_code = "F03"
        return res
    if kind == "tracs":
        nm = TRACS_NAME.match(path.name)
        created = root.get("createdAt") or ""
        try:
            cdate = dt.datetime.fromisoformat(created).astimezone(CHICAGO).date()
        except ValueError:
            cdate = None
        if nm.group(1) != root.get("agencyORI") or nm.group(2) != (cdate.strftime("%Y%m%d") if cdate else None):
            res.file_code = "F05"
            return res
    else:
        nm = MEG_NAME.match(path.name)
        if (nm.group(1) != root.get("Unit") or nm.group(1) != path.parent.name
                or root.get("ExportDate") != f"{nm.group(2)[:4]}-{nm.group(2)[4:6]}-{nm.group(2)[6:]}"):
            res.file_code = "F05"
            return res
    schema.validate(root)
    errors = [(e.line, e.message) for e in schema.error_log]
    records = list(root.iter(f"{{{ns}}}FieldReport" if kind == "tracs" else f"{{{ns}}}Case"))
    bounds = sorted({el.sourceline for el in root.iter(f"{{{ns}}}Contact", f"{{{ns}}}OtherForm",
                                                       f"{{{ns}}}FieldReport", f"{{{ns}}}Case")})
    rid = (lambda r: r.get("formNumber")) if kind == "tracs" else \
        (lambda r: f"{root.get('Unit')}/{r.get('CaseNumber')}")
    schema_bad: set[int] = set()
    for line, _ in errors:
        owner = record_at_line(records, bounds, line)
        if owner is None:
            contact = [c for c in root.iter(f"{{{ns}}}Contact") if c.sourceline == line]
            if contact:
                schema_bad.update(id(r) for r in contact[0].iter(f"{{{ns}}}FieldReport"))
                continue
            res.file_code = "F08"
            return res
        schema_bad.add(id(owner))
    res.root = root
    numbers = Counter(r.get("formNumber" if kind == "tracs" else "CaseNumber") for r in records)
    for r in records:
        if id(r) in schema_bad:
            res.records[("S01", rid(r))] += 1
            continue
        codes = record_rules(r, ns, kind, root.get("Unit"))
        if numbers[r.get("formNumber" if kind == "tracs" else "CaseNumber")] > 1:
            codes.add("B04")
        for c in codes:
            res.records[(c, rid(r))] += 1
    return res


def record_at_line(records, bounds, line):
    """The record whose text holds `line`: the last record starting at or before it, unless a
    Contact/OtherForm/record boundary lies between."""
    owner = None
    for r in records:
        if r.sourceline <= line:
            owner = r
    if owner is None:
        return None
    later = [b for b in bounds if owner.sourceline < b <= line]
    return None if later else owner


def q(ns, name):
    return f"{{{ns}}}{name}"


def record_rules(r, ns, kind, unit) -> set[str]:
    codes = set()
    if kind == "tracs":
        seqs = Counter()
        for ind in r.iter(q(ns, "individual")):
            seqs[ind.get("seq")] += 1
            disp = ind.findtext(q(ns, "individualDisposition")) or ""
            has = ind.find(q(ns, "deflection")) is not None
            if disp == "CD" and not has:
                codes.add("B01")
            if has and disp != "CD":
                codes.add("B02")
        if any(n > 1 for n in seqs.values()):
            codes.add("B04")
    else:
        sids = Counter(s.get("SubjectId") for s in r.iter(q(ns, "Subject")))
        dsids = Counter(d.get("SubjectId") for d in r.iter(q(ns, "Deflection")))
        if any(s not in sids for s in dsids):
            codes.add("B03")
        if any(n > 1 for n in sids.values()) or any(n > 1 for n in dsids.values()):
            codes.add("B04")
        if not r.get("CaseNumber", "").startswith(unit + "-"):
            codes.add("B05")
    return codes
