"""Hardened reading of untrusted XML: size-bounded (de)compression, prolog checks, parser options.

Order matters (field notes): the size limit and the DTD check come first, and only then is the
parser allowed `huge_tree` (a 16 MB attachment is one text node over libxml2's 10 MB default).
Nothing in a document is ever resolved: no DTD is loaded, no entity expanded, no network used.
"""
from __future__ import annotations

import gzip
import os
import re
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ingestion.findings import F01, F06, F07, F09, Finding

PROLOG_LIMIT = 1024 * 1024  # bytes scanned for the XML declaration, comments, PIs and a DOCTYPE
ACCEPTED_ENCODINGS = {"utf-8", "iso-8859-1"}
_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class FileRejected(Exception):
    """A file-level finding that stops reading the file."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


_PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class FileBudget:
    """What one file may cost: seconds from the start of its checks, and memory above what the
    process held then. `check()` raises FileRejected(F09) once either is spent, so one hostile or
    broken file is quarantined and the night goes on (configuration: file_timeout_s,
    file_memory_mb). It is called for every chunk the parser reads and every record."""

    seconds: float | None = None
    memory_bytes: int | None = None
    started: float = field(default_factory=time.monotonic)
    base_rss: int = field(default_factory=resident_bytes)
    _calls: int = 0

    def check(self, line: int | None = None) -> None:
        if self.seconds is not None and time.monotonic() - self.started > self.seconds:
            raise FileRejected(F09.finding(f"still being checked after {self.seconds:g} s",
                                           line=line))
        self._calls += 1
        if self.memory_bytes is not None and self._calls % 16 == 1:  # /proc costs a read
            grown = resident_bytes() - self.base_rss
            if grown > self.memory_bytes:
                raise FileRejected(F09.finding(
                    f"needed more than {self.memory_bytes // 2**20} MB to check", line=line))


class LimitedReader:
    """File-like reader over the raw or gunzipped bytes, counting what it hands out.

    Raises FileRejected(F07) past `max_bytes` or when the gzip stream is broken, F09 when the
    file's `budget` is spent.
    """

    def __init__(self, path: Path, max_bytes: int, compressed: bool = False,
                 budget: FileBudget | None = None):
        self.max_bytes = max_bytes
        self.budget = budget
        self.count = 0
        raw = open(path, "rb")  # noqa: SIM115 (closed by close(), with the gzip layer)
        self._raw = raw
        self._fh = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1024 * 1024
        try:
            data = self._fh.read(n)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileRejected(F07.finding(f"cannot decompress ({type(exc).__name__})")) from None
        self.count += len(data)
        if self.count > self.max_bytes:
            what = "decompressed, over" if self._fh is not self._raw else "over"
            raise FileRejected(F07.finding(f"{what} the size limit of {self.max_bytes} bytes"))
        if self.budget is not None:
            self.budget.check()
        return data

    def close(self) -> None:
        self._fh.close()
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _root_start(buf: bytes) -> int | None:
    """Index of the root start tag in `buf`, skipping declaration, PIs, comments and <!...>."""
    i = 0
    if buf.startswith(b"\xef\xbb\xbf"):
        i = 3
    while True:
        j = buf.find(b"<", i)
        if j < 0 or j + 1 >= len(buf):
            return None
        nxt = buf[j + 1:j + 2]
        if nxt == b"?":
            k = buf.find(b"?>", j + 2)
            if k < 0:
                return None
            i = k + 2
        elif buf.startswith(b"<!--", j):
            k = buf.find(b"-->", j + 4)
            if k < 0:
                return None
            i = k + 3
        elif nxt == b"!":
            return j  # a declaration (DOCTYPE, ENTITY ...): reported by check_prolog
        else:
            return j


def check_prolog(prolog: bytes) -> list[Finding]:
    """F01 (encoding) and F06 (DTD/entities) from the bytes before the root element."""
    if prolog.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")) or \
            prolog[:2] in (b"\x00<", b"<\x00"):
        return [F01.finding("UTF-16/UTF-32 is not an accepted encoding", line=1)]
    bom = prolog.startswith(b"\xef\xbb\xbf")
    body = prolog[3:] if bom else prolog
    m = _ENCODING.match(body)
    if m:
        declared = m.group(1).decode("ascii").lower()
        if declared not in ACCEPTED_ENCODINGS:
            return [F01.finding(f"encoding {m.group(1).decode('ascii')} is not accepted "
                                "(only UTF-8 and ISO-8859-1)", line=1)]
        if bom and declared != "utf-8":
            return [F01.finding("a UTF-8 byte order mark with another declared encoding", line=1)]
    start = _root_start(prolog)
    if start is not None and prolog[start + 1:start + 2] == b"!":
        # the first markup after the declaration, PIs and comments is a declaration: a DOCTYPE
        # (or a stray ENTITY / ELEMENT ...); comments that merely mention one do not count
        word = re.match(rb"<!([A-Za-z]*)", prolog[start:start + 20]).group(1).decode("ascii")
        line = prolog.count(b"\n", 0, start) + 1
        return [F06.finding(f"{word or 'markup'} declaration", line=line)]
    if start is None:
        return [F01.finding("no root element found", line=1)]
    return []


def parser_options() -> dict:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False,
            "dtd_validation": False, "huge_tree": True, "remove_comments": True,
            "remove_pis": True}


class SafeFeed:
    """Hardened parsing of a document handed over in chunks: `feed` each, then `close`.

    The prolog checks (F01 encoding, F06 DTD) run on the first PROLOG_LIMIT bytes once the root
    element's start is among them, then lxml's pull parser with the options above takes every
    byte. `feed` and `close` return the events parsed so far (as iterparse would yield them) and
    raise FileRejected for what is found before or while parsing. A syntax error is raised at the
    next call, after the events that preceded it were returned. After `close`, `root` is the
    document's root element (whatever its name: events may be filtered by tag)."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.root = None
        self._head = b""
        self._parser = None
        self._error: FileRejected | None = None

    def feed(self, data: bytes) -> list:
        self.raise_pending()
        if self._parser is None:
            self._head += data
            if not self._prolog_known():
                return []
            data, self._head = self._head, b""
            self._begin(data)
        return self._parse(data)

    def _prolog_known(self) -> bool:
        """Whether the bytes so far decide check_prolog as all of them would: the scan limit is
        reached, or the first markup after the declaration, comments and PIs is there with the
        20 bytes check_prolog reads of it. The same verdict whatever the chunks."""
        if len(self._head) >= PROLOG_LIMIT:
            return True
        start = _root_start(self._head)
        return start is not None and len(self._head) >= min(start + 20, PROLOG_LIMIT)

    def raise_pending(self) -> None:
        """Raise the syntax error the last `feed` found, if any (its events were returned)."""
        if self._error is not None:
            raise self._error

    def close(self) -> list:
        events = []
        if self._parser is None:
            data, self._head = self._head, b""
            self._begin(data)
            events = self._parse(data)
        self.raise_pending()
        try:
            self.root = self._parser.close()
        except etree.XMLSyntaxError as exc:
            raise _rejection(exc) from None
        return events + list(self._parser.read_events())

    def _begin(self, head: bytes) -> None:
        findings = check_prolog(head[:PROLOG_LIMIT])
        if findings:
            raise FileRejected(findings[0])
        # lxml's error log is kept per thread across parses: emptied here, whatever it holds
        # afterwards is this file's
        etree.clear_error_log()
        self._parser = etree.XMLPullParser(**parser_options(), **self.kwargs)

    def _parse(self, data: bytes) -> list:
        try:
            self._parser.feed(data)
        except etree.XMLSyntaxError as exc:
            self._error = _rejection(exc)
        return list(self._parser.read_events())


def _rejection(exc: etree.XMLSyntaxError) -> FileRejected:
    """F01 for a syntax error: when the exception itself only says the document ended, the
    parser's last logged error says what and where (an undeclared entity at its line)."""
    line, column = (exc.position if exc.position else (exc.lineno, None))
    logged = list(exc.error_log or ())
    first = logged[-1] if logged and not line else None
    if first is not None and first.line:
        line, column = first.line, first.column
    return FileRejected(F01.finding(_syntax_message(exc, first), line=line or None,
                                    column=column or None))


# what a hardened parse of a landed file reads at a time (lxml's own iterparse reads 32 KB)
READ_CHUNK = 32 * 1024


class SafeIterparse:
    """Hardened iterparse over a landed file (SafeFeed over its raw or gunzipped bytes, with
    the size limit and the file's budget); iterate it for the events.

    `compressed`: the file is gzip (the remote name ends in .gz). Iterating raises FileRejected
    with F01/F06/F07 for problems found before or while parsing (F09 when the budget runs out).
    After the iteration `root` is the document's root element.
    """

    def __init__(self, path: Path, max_bytes: int, compressed: bool = False,
                 budget: FileBudget | None = None, **kwargs):
        self.path, self.max_bytes, self.compressed, self.kwargs = path, max_bytes, compressed, kwargs
        self.budget = budget
        self._feed: SafeFeed | None = None

    @property
    def root(self):
        return None if self._feed is None else self._feed.root

    def __iter__(self):
        self._feed = feed = SafeFeed(**self.kwargs)
        with LimitedReader(self.path, self.max_bytes, self.compressed, self.budget) as reader:
            while data := reader.read(READ_CHUNK):
                yield from feed.feed(data)
                feed.raise_pending()  # read no further past a syntax error (F07, F09 would hide it)
            yield from feed.close()


def iterparse(path: Path, max_bytes: int, compressed: bool = False,
              budget: FileBudget | None = None, **kwargs) -> SafeIterparse:
    return SafeIterparse(path, max_bytes, compressed, budget, **kwargs)


def check_decompressed_size(path: Path, max_bytes: int, budget: FileBudget | None = None) -> int:
    """A gzip file's decompressed size against the limit, streaming, before any parsing: a small
    file that inflates to gigabytes (a gzip bomb) is F07 without ever being held in memory.
    Returns that size. Raises FileRejected (F07, or F09 when the budget runs out first)."""
    with LimitedReader(path, max_bytes, compressed=True, budget=budget) as reader:
        while reader.read(1024 * 1024):
            pass
        return reader.count


def _syntax_message(exc: etree.XMLSyntaxError, first=None) -> str:
    # libxml2's message may quote document text; keep only its first line, bounded.
    text = (first.message if first is not None and first.message else None) or exc.msg or exc
    return str(text).splitlines()[0][:200]
