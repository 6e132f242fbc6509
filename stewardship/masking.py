"""Masking personal data out of raw XML excerpts and finding messages.

Excerpts come from quarantined files, which are by definition often not well-formed, so masking
works on text with regular expressions rather than on a parsed tree: an element cut by the
excerpt's edge, attributes in any order or over several lines, CDATA and entity references are
all handled, and whatever is doubtful is masked. Line breaks are kept so line numbers still
match the file.

What is masked (deflection-rules.md §6 and the interfaces): the content of names, birth dates,
narratives and attachments (`individualLastName`, `individualFirstName`, `individualMiddleName`,
`individualDOB`, `narrative`, `attachment`, `BirthDate`), of any other element whose name says it
holds a name, a birth date or a free-text description (free text can hold names), the whole
content of TraCS `OtherForm` (any vocabulary, e.g. a citation's driver), the MEG `Name`
attributes `Last`/`First`/`Middle` wherever they appear, any attribute whose name says it holds
a name or a birth date, comments, and the values of entity declarations.
"""

from __future__ import annotations

import re

MASK = "[masked]"

# Elements whose text content is masked: the listed ones, and any local name that says it holds a
# name, a birth date or free text (so a misspelt or unknown element in a broken file is masked too).
PERSONAL_ELEMENTS = (
    "individualLastName",
    "individualFirstName",
    "individualMiddleName",
    "individualDOB",
    "narrative",
    "attachment",
    "BirthDate",
)
_SENSITIVE_ELEMENT = re.compile(r"(?i)(name|dob|birth|narrative|attachment|description|comment)")
# Elements whose whole content (child elements included) is masked.
CONTAINER_ELEMENTS = ("OtherForm",)
NAME_ATTRIBUTES = ("Last", "First", "Middle")
_SENSITIVE_ATTRIBUTE = re.compile(r"(?i)^(last|first|middle)$|name|birth|dob")

_PREFIX = r"(?:[A-Za-z_][\w.\-]*:)?"
_LOCAL = r"[A-Za-z_][\w.\-]*"
# The inside of a start tag: quoted values may hold '>' and may be cut off by the excerpt's end.
_TAG_BODY = r"""(?:[^<>"']|"[^"]*(?:"|\Z)|'[^']*(?:'|\Z))*"""
_START_TAG = re.compile(rf"<({_PREFIX})({_LOCAL})(?=[\s/>]|\Z)({_TAG_BODY})(>|\Z)")
_END_TAG = re.compile(rf"</({_PREFIX})({_LOCAL})\s*>")
_ATTRIBUTE = re.compile(
    rf"""(?<![\w.:\-])({_PREFIX})({_LOCAL})\s*=\s*("[^"]*(?:"|\Z)|'[^']*(?:'|\Z))"""
)
_NAME_ATTRIBUTE = re.compile(
    r"""(?<![\w.:\-])(?:Last|First|Middle)\s*=\s*("[^"]*(?:"|\Z)|'[^']*(?:'|\Z))"""
)
_COMMENT = re.compile(r"<!--(.*?)(?:-->|\Z)", re.DOTALL)
_ENTITY_DECL = re.compile(r"<!ENTITY" + _TAG_BODY + r"(?:>|\Z)")
_QUOTED = re.compile(r""""[^"]*(?:"|\Z)|'[^']*(?:'|\Z)""")
_CDATA_START = "<![CDATA["


def is_sensitive_element(local_name: str) -> bool:
    return local_name in PERSONAL_ELEMENTS or bool(_SENSITIVE_ELEMENT.search(local_name))


def is_sensitive_attribute(local_name: str) -> bool:
    return bool(_SENSITIVE_ATTRIBUTE.search(local_name))


def _text_end(text: str, start: int) -> int:
    """End of an element's text content: the first end tag outside CDATA, or the fragment's end."""
    pos = start
    while True:
        close = text.find("</", pos)
        cdata = text.find(_CDATA_START, pos)
        if cdata != -1 and (close == -1 or cdata < close):
            end = text.find("]]>", cdata + len(_CDATA_START))
            if end == -1:
                return len(text)
            pos = end + 3
            continue
        return len(text) if close == -1 else close


def _container_end(text: str, start: int, prefix: str, local: str) -> int:
    m = re.compile(rf"</{re.escape(prefix)}{re.escape(local)}\s*>").search(text, start)
    return m.start() if m else len(text)


def _leading_orphan_end(text: str) -> int:
    """A fragment that starts inside a sensitive element: mask up to that element's end tag."""
    end = 0
    for m in _END_TAG.finditer(text):
        prefix, local = m.group(1), m.group(2)
        if not (is_sensitive_element(local) or local in CONTAINER_ELEMENTS):
            continue
        opened = re.compile(rf"<{re.escape(prefix)}{re.escape(local)}(?=[\s/>]|\Z)")
        if not opened.search(text, 0, m.start()):
            end = max(end, m.start())
    return end


def _inside_quotes(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of a quoted value without its quotes (the closing one may be cut off)."""
    closed = end - start >= 2 and text[end - 1] == text[start]
    return start + 1, end - 1 if closed else end


def _spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    orphan = _leading_orphan_end(text)
    if orphan:
        spans.append((0, orphan))
    for m in _START_TAG.finditer(text):
        prefix, local, body, closer = m.group(1), m.group(2), m.group(3), m.group(4)
        body_start = m.start(3)
        for a in _ATTRIBUTE.finditer(body):
            if is_sensitive_attribute(a.group(2)):
                spans.append(_inside_quotes(text, body_start + a.start(3), body_start + a.end(3)))
        if closer != ">" or body.rstrip().endswith("/"):
            continue  # cut off by the fragment's end, or an empty element
        if local in CONTAINER_ELEMENTS:
            spans.append((m.end(), _container_end(text, m.end(), prefix, local)))
        elif is_sensitive_element(local):
            spans.append((m.end(), _text_end(text, m.end())))
    # Name attributes anywhere, even outside a recognisable start tag (a fragment cut mid-tag).
    for a in _NAME_ATTRIBUTE.finditer(text):
        spans.append(_inside_quotes(text, *a.span(1)))
    for c in _COMMENT.finditer(text):
        spans.append(c.span(1))
    for e in _ENTITY_DECL.finditer(text):
        for q in _QUOTED.finditer(e.group(0)):
            spans.append((e.start() + q.start(), e.start() + q.end()))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _masked(segment: str) -> str:
    """Replace a span's text by the mask, keeping its line breaks (and blank parts) as they were."""
    return "\n".join(MASK if part.strip() else part for part in segment.split("\n"))


def mask_xml(text: str) -> str:
    """The text with every personal value masked; line breaks preserved."""
    out, pos = [], 0
    for start, end in _merge(_spans(text)):
        out.append(text[pos:start])
        out.append(_masked(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


_PERSONAL_WORDS = re.compile(
    r"(?i)individual(Last|First|Middle)Name|individualDOB|BirthDate|narrative|attachment|"
    r"\bName\b|@?\b(Last|First|Middle)\b"
)


def mask_message(message: str | None, path: str | None = None) -> str | None:
    """A finding message without the values of personal fields.

    Schema error messages quote the offending value ("Element 'individualDOB': '1995-13-40' is
    not a valid value ..."). When the message or path concerns a personal field, every quoted
    value is masked except quoted element/attribute names and type names.
    """
    if message is None:
        return None
    if not _PERSONAL_WORDS.search(message) and not (path and _PERSONAL_WORDS.search(path)):
        return message

    def repl(m: re.Match) -> str:
        inner = m.group(0)[1:-1]
        if (
            inner.startswith(("{", "xs:", "@"))
            or inner in NAME_ATTRIBUTES
            or inner in PERSONAL_ELEMENTS
        ):
            return m.group(0)  # a name of an element, attribute or type: useful and not personal
        return m.group(0)[0] + MASK + m.group(0)[-1]

    return re.sub(r"'[^']*'|\"[^\"]*\"", repl, message)


def excerpt(
    text: str, line: int | None, context: int = 3, width: int = 160
) -> list[tuple[int, str]]:
    """Masked lines around `line` (1-based) as (line number, text); long lines are shortened.

    Masking runs over the whole text handed in before lines are cut, so an element that starts
    above the excerpt is still recognised.
    """
    return excerpt_lines(mask_xml(text).split("\n"), line, context, width)


def excerpt_lines(
    masked: list[str], line: int | None, context: int = 3, width: int = 160
) -> list[tuple[int, str]]:
    """`excerpt` over lines already masked (one masking of a file serves many excerpts)."""
    if not masked:
        return []
    centre = line if line and 1 <= line <= len(masked) else 1
    first, last = max(1, centre - context), min(len(masked), centre + context)
    result = []
    for n in range(first, last + 1):
        value = masked[n - 1].rstrip("\r")
        if len(value) > width:
            value = value[:width] + " …"
        result.append((n, value))
    return result
