"""Masking personal data out of raw XML excerpts and finding messages, field by field.

What is personal is the interfaces' classification (deflect.core.fields, declared by each
adapter and merged by `adapters.registry.field_classes()`), handed in as `fields`: the value of
a field it names as not personal is shown (a bad `Pathway`, `CountyFIPS`, `individualSex`), any
other is masked: names, birth dates, narratives, attachments, free text, identifiers of persons,
and every element or attribute it does not know (a misspelt one in a broken file, another
namespace's). Without `fields` nothing is shown.

Excerpts come from quarantined files, which are by definition often not well-formed, so masking
works on text rather than on a parsed tree: tags are found with regular expressions and a stack
of open elements says whose text a piece of text is. An element cut by the excerpt's edge,
attributes in any order or over several lines, CDATA and entity references are handled; text
whose element cannot be told is masked. The whole content of a container (TraCS `OtherForm`,
any vocabulary), comments and the values of declarations are masked. Line breaks are kept so
line numbers still match the file.

    mask_xml(text, fields)                  -> the text, personal values masked
    mask_message(message, path, fields)     -> a finding message, quoted personal values masked
    excerpt(text, line, fields)             -> numbered masked lines around a line
    quoted_value(message)                   -> the value a schema message quotes (for exports)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deflect.core.fields import MASK, NOTHING_PUBLIC, FieldClasses, printable

__all__ = [
    "MASK",
    "MaskState",
    "excerpt",
    "excerpt_lines",
    "mask_message",
    "mask_xml",
    "quoted_value",
]

_PREFIX = r"(?:[A-Za-z_][\w.\-]*:)?"
_LOCAL = r"[A-Za-z_][\w.\-]*"
_QUOTED_VALUE = r""""[^"]*(?:"|\Z)|'[^']*(?:'|\Z)"""
# The inside of a start tag: quoted values may hold '>' and may be cut off by the excerpt's end.
_TAG_BODY = rf"""(?:[^<>"']|{_QUOTED_VALUE})*"""
_TOKEN = re.compile(
    rf"""(?P<comment><!--.*?(?:-->|\Z))
      |(?P<cdata><!\[CDATA\[.*?(?:\]\]>|\Z))
      |(?P<pi><\?.*?(?:\?>|\Z))
      |(?P<decl><!(?:[^>"']|{_QUOTED_VALUE})*(?:>|\Z))
      |(?P<end></{_PREFIX}(?P<end_local>{_LOCAL})\s*(?:>|\Z))
      |(?P<start><{_PREFIX}(?P<local>{_LOCAL})(?=[\s/>]|\Z)(?P<body>{_TAG_BODY})(?P<closer>>|\Z))""",
    re.DOTALL | re.VERBOSE,
)
_ATTRIBUTE = re.compile(rf"""(?<![\w.:\-])({_PREFIX})({_LOCAL})\s*=\s*({_QUOTED_VALUE})""")
_QUOTED = re.compile(_QUOTED_VALUE)


@dataclass(frozen=True)
class MaskState:
    """Where a text handed to `mask_xml` starts, when it is cut out of a longer file: inside a
    comment, a CDATA section or a container (their start lies above it). Found by a scan of the
    lines above (stewardship.excerpts)."""

    comment: bool = False
    cdata: bool = False
    container: bool = False


def _local(prefixed: str) -> str:
    return prefixed.rpartition(":")[2]


def _value_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of a quoted value without its quotes (the closing one may be cut off)."""
    closed = end - start >= 2 and text[end - 1] == text[start]
    return start + 1, end - 1 if closed else end


def _attribute_spans(text, offset, body, fields, hide_all) -> list[tuple[int, int]]:
    spans = []
    for a in _ATTRIBUTE.finditer(body):
        name = a.group(1) + a.group(2)
        if hide_all or fields.attribute_is_personal(name if a.group(1) == "xmlns:" else
                                                     a.group(2)):
            spans.append(_value_span(text, offset + a.start(3), offset + a.end(3)))
    return spans


def _leading_fragment_spans(text: str, start: int, stop: int, fields) -> list[tuple[int, int]]:
    """Text no element is known to own, e.g. the end of a start tag cut by the excerpt's top
    edge: its attributes are judged one by one; every other word but a tag closer is masked."""
    fragment = text[start:stop]
    spans = _attribute_spans(text, start, fragment, fields, False)
    pos = 0
    for a in _ATTRIBUTE.finditer(fragment):
        spans.extend(_words(text, start + pos, start + a.start()))
        pos = a.end()
    spans.extend(_words(text, start + pos, stop))
    return spans


_LINE_PART = re.compile(r"\S(?:[^\n]*\S)?")  # a line's text without its surrounding blanks


def _opens(start_tag: re.Match) -> bool:
    """A complete start tag that is not an empty-element tag."""
    return start_tag.group("closer") == ">" and not start_tag.group("body").rstrip().endswith("/")


def _words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Each line's non-blank part within text[start:end] (one mask a line, so that the mask
    tells nothing of the words under it), but a lone tag closer (`>`, `/>`)."""
    return [m.span() for m in _LINE_PART.finditer(text, start, end)
            if m.group(0) not in (">", "/>")]


def _spans(text: str, fields: FieldClasses, state: MaskState) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    # A text that starts inside a comment or CDATA section: masked up to its end.
    if state.comment or state.cdata:
        closer = "-->" if state.comment else "]]>"
        end = text.find(closer)
        spans.append((0, len(text) if end == -1 else end))
        pos = len(text) if end == -1 else end + len(closer)
    tokens = list(_TOKEN.finditer(text, pos))
    # Inside a container opened above the text: masked up to the end tag that closes it (the
    # first container end tag with no start tag before it), or to the end.
    in_container_until = -1
    depth = 0
    for i, t in enumerate(tokens):
        if t.group("start") and _opens(t) and t.group("local") in fields.containers:
            depth += 1
        elif t.group("end") and t.group("end_local") in fields.containers:
            if depth:
                depth -= 1
            else:
                in_container_until = i
    if state.container and in_container_until == -1:
        in_container_until = len(tokens)
    stack: list[str] = []  # local names of the elements open, innermost last
    hidden = 0  # how many containers are open on the stack

    for i, t in enumerate([*tokens, None]):
        stop = t.start() if t is not None else len(text)
        if stop > pos and text[pos:stop].strip():
            # whose text this is: the innermost open element's; with none open, the element
            # the next tag closes; else it is the end of a start tag cut by the top edge
            if hidden or i <= in_container_until:
                spans.extend(_words(text, pos, stop))
            elif stack:
                if fields.element_is_personal(stack[-1]):
                    spans.extend(_words(text, pos, stop))
            elif t is not None and t.group("end"):
                if fields.element_is_personal(t.group("end_local")):
                    spans.extend(_words(text, pos, stop))
            else:
                spans.extend(_leading_fragment_spans(text, pos, stop, fields))
        if t is None:
            break
        pos = t.end()
        inside = hidden > 0 or i < in_container_until
        if t.group("comment"):
            spans.append((t.start() + 4, t.end() - (3 if t.group(0).endswith("-->") else 0)))
        elif t.group("cdata"):
            if inside or not stack or fields.element_is_personal(stack[-1]):
                body_end = t.end() - (3 if t.group(0).endswith("]]>") else 0)
                spans.append((t.start() + 9, body_end))
        elif t.group("pi"):
            target = re.match(r"<\?(\S*)", t.group(0)).group(1)
            if target.lower() != "xml":
                spans.append((t.start() + 2 + len(target), t.end()))
        elif t.group("decl"):
            for q in _QUOTED.finditer(t.group(0)):
                spans.append((t.start() + q.start(), t.start() + q.end()))
        elif t.group("end"):
            local = t.group("end_local")
            if local in stack:
                while stack:
                    closed = stack.pop()
                    if closed in fields.containers:
                        hidden -= 1
                    if closed == local:
                        break
        else:
            local = t.group("local")
            spans.extend(_attribute_spans(text, t.start("body"), t.group("body"), fields, inside))
            if _opens(t):
                stack.append(local)
                if local in fields.containers:
                    hidden += 1
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


def mask_xml(text: str, fields: FieldClasses = NOTHING_PUBLIC,
             state: MaskState = MaskState()) -> str:
    """The text with every value of a personal (or unknown) field masked; line breaks kept.
    `state`: where the text starts when it is cut out of a longer file."""
    out, pos = [], 0
    for start, end in _merge(_spans(text, fields, state)):
        out.append(text[pos:start])
        out.append(_masked(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


# "Element '{ns}Deflection', attribute 'Pathway': ..." — what a schema message is about
_SUBJECT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?")
_VALUE_IN_MESSAGE = re.compile(
    r"(?:: |The value )'(.*?)'(?: \((?:\d+ characters|value cut by libxml2)\))?(?= is not | )",
    re.DOTALL,
)


def _message_is_personal(message: str, path: str | None, fields: FieldClasses) -> bool:
    m = _SUBJECT.search(message)
    if m:
        return (fields.attribute_is_personal(m.group(2)) if m.group(2)
                else fields.element_is_personal(_local(m.group(1))))
    if path:
        last = re.sub(r"\[.*?\]", "", path.rstrip("/")).rpartition("/")[2]
        if last.startswith("@"):
            return fields.attribute_is_personal(last[1:])
        return fields.element_is_personal(_local(last)) if last else True
    return True


def mask_message(message: str | None, path: str | None = None,
                 fields: FieldClasses = NOTHING_PUBLIC) -> str | None:
    """A finding message without the values of personal fields.

    Ingestion already masks the value a schema message quotes when its field is personal; this
    is the second line, also for messages kept before it did: when the message (or else its XML
    path) is about a personal or unknown field, every quoted value is masked except element,
    attribute and type names. Messages about fields that are not personal are left as they are.
    """
    if message is None:
        return None
    if not _message_is_personal(message, path, fields):
        return message

    def repl(m: re.Match) -> str:
        inner = m.group(0)[1:-1]
        if inner == MASK or inner.startswith(("{", "xs:", "@")) or re.fullmatch(
                rf"{_PREFIX}{_LOCAL}", inner) and (inner in fields.classified_elements()
                                                   or inner in fields.classified_attributes()):
            return m.group(0)  # a name of an element, attribute or type: useful, not personal
        return m.group(0)[0] + MASK + m.group(0)[-1]

    # Only from the schema message on: the rule's wording before it may hold an apostrophe
    # ("Contact's") that would pair with the wrong quote.
    subject = _SUBJECT.search(message)
    start = subject.start() if subject else 0
    return message[:start] + re.sub(r"'[^']*'|\"[^\"]*\"", repl, message[start:])


def quoted_value(message: str | None) -> str | None:
    """The offending value a schema message quotes (already masked when personal), or None."""
    if not message:
        return None
    m = _VALUE_IN_MESSAGE.search(message)
    return m.group(1) if m else None


def excerpt(text: str, line: int | None, fields: FieldClasses = NOTHING_PUBLIC,
            context: int = 3, width: int = 160) -> list[tuple[int, str]]:
    """Masked lines around `line` (1-based) as (line number, text); long lines are shortened.

    Masking runs over the whole text handed in before lines are cut, so an element that starts
    above the excerpt is still recognised."""
    return excerpt_lines(mask_xml(text, fields).split("\n"), line, context, width)


def excerpt_lines(masked: list[str], line: int | None, context: int = 3, width: int = 160,
                  first: int = 1) -> list[tuple[int, str]]:
    """`excerpt` over lines already masked; `first` is the number of masked[0]. Control
    characters are written as escapes."""
    if not masked:
        return []
    last_n = first + len(masked) - 1
    centre = line if line and first <= line <= last_n else first
    lo, hi = max(first, centre - context), min(last_n, centre + context)
    result = []
    for n in range(lo, hi + 1):
        value = masked[n - first].rstrip("\r")
        if len(value) > width:
            value = value[:width] + " …"
        result.append((n, printable(value)))
    return result
