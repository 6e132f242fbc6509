"""Line and column of an element or attribute in the document's own text.

libxml2 reports no column when it validates a tree (always 0), and for an element it reports the
line where the start tag *ends*. When the caller still has the document's bytes, expat (which
knows where each start tag begins) gives the exact position. Used only on the error path.
"""
from __future__ import annotations

import re
from xml.parsers import expat


def start_tag_offsets(source: bytes) -> list[int]:
    """Byte offset of every start tag, in document order (the order of `root.iter(Element)`).

    Only called for documents that already parsed with the hardened lxml parser; expat is told
    not to read any external entity, and internal ones are left as they are."""
    offsets: list[int] = []
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.ExternalEntityRefHandler = lambda *args: 1  # never resolved
    parser.StartElementHandler = lambda name, attrs: offsets.append(parser.CurrentByteIndex)
    parser.Parse(source, True)
    return offsets


def attribute_offset(source: bytes, tag_offset: int, name: str) -> int | None:
    """Byte offset of attribute `name` inside the start tag that begins at `tag_offset`."""
    end = source.find(b">", tag_offset)
    tag = source[tag_offset:end if end >= 0 else len(source)]
    m = re.search(rb"\s(" + re.escape(name.encode()) + rb")\s*=", tag)
    return tag_offset + m.start(1) if m else None


def line_column(source: bytes, offset: int, encoding: str | None) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line = source.count(b"\n", 0, offset) + 1
    start = source.rfind(b"\n", 0, offset) + 1
    prefix = source[start:offset]
    if start == 0 and prefix.startswith(b"\xef\xbb\xbf"):
        prefix = prefix[3:]
    try:
        column = len(prefix.decode(encoding or "utf-8")) + 1
    except (LookupError, UnicodeDecodeError):
        column = len(prefix) + 1
    return line, column
