"""Excerpts of the raw XML kept for a quarantine entry: the lines around each error line,
numbered as in the delivered file, personal data masked (stewardship.masking).

The raw file is read as a stream, line by line, and the reading stops at the last line an
excerpt needs: a file of any size costs time up to its last error line and memory for a few
lines, never the whole file. Lines above an excerpt are only scanned for where a comment, a CDATA
section or a container (`OtherForm`) opened above it ends, so that the excerpt is masked as if
the whole file had been read (stewardship.masking.MaskState). A line longer than
`LINE_HEAD_CHARS` is read whole but only its head is kept.

    raw_file_for(landing_dir, entry)            -> the kept raw file, or None
    file_line_to_raw(entry, line) / raw_line_to_file(entry, n)
    excerpts_for(path, lines, fields, context)  -> {line: [(line number, masked text), ...]}
    entry_excerpts(landing_dir, entry, findings, fields, ...) -> what the report and `show` print

A line longer than the excerpt's width (a generated file writes a record on one line) is shown
around the field the finding is about (its attribute or element, nearest its column).
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

from deflect.core.fields import NOTHING_PUBLIC, FieldClasses, printable
from stewardship import data
from stewardship.masking import MaskState, mask_xml

CONTEXT = 3  # lines shown above and below an error line
MAX_EXCERPTS_PER_ENTRY = 3
LINE_HEAD_CHARS = 64 * 1024  # characters of one line kept (a minified file is one line)
_BLOCK_CHARS = 1024 * 1024  # the file is read in blocks of this many characters
_TAIL_CHARS = 4096  # what is kept of a huge line's text already scanned


def raw_file_for(landing_dir: Path, entry: dict) -> Path | None:
    """The quarantined raw bytes of an entry, only ever inside the landing area."""
    landing = Path(landing_dir).resolve()
    candidates = []
    if entry.get("raw_path"):
        p = Path(str(entry["raw_path"]))
        candidates.append(p if p.is_absolute() else landing / p)
    for digest in (entry.get("record_sha256"), entry.get("file_sha256")):
        if digest and isinstance(digest, str):
            candidates.append(landing / "quarantine" / f"{digest}.xml")
    for c in candidates:
        try:
            resolved = c.resolve()
        except OSError:
            continue
        if resolved.is_file() and (resolved == landing or landing in resolved.parents):
            return resolved
    return None


def _record_start(entry: dict) -> int | None:
    start = entry.get("line")
    if entry.get("level") == "record" and not data.missing(start):
        return int(start)
    return None


def file_line_to_raw(entry: dict, file_line) -> int | None:
    """A finding's line in the delivered file as a line of the raw text kept for the entry.

    A quarantined record is kept alone, starting at its element's line in the file (entry
    `line`); a quarantined file is kept whole."""
    if data.missing(file_line):
        return None
    start = _record_start(entry)
    return int(file_line) - start + 1 if start is not None else int(file_line)


def raw_line_to_file(entry: dict, raw_line: int) -> int:
    """A line of the kept raw text as the line of the delivered file it came from."""
    start = _record_start(entry)
    return raw_line + start - 1 if start is not None else raw_line


class NotText(ValueError):
    """The raw file is not readable text (binary, or gzip beyond repair)."""


def _open_text(path: Path):
    """The raw file as a text stream: gzip opened on the fly, the encoding from the XML
    declaration (ISO-8859-1 as some MEG programs write, else UTF-8, bad bytes replaced)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    opener = open
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as gz:
                head = gz.read(4096)
        except (OSError, EOFError) as exc:
            raise NotText(str(path)) from exc
        opener = gzip.open
    if b"\x00" in head:
        raise NotText(str(path))
    declared = head[:200].lower()
    latin = any(w in declared for w in (b"iso-8859-1", b"latin-1", b"latin1"))
    encoding = "latin-1" if latin else "utf-8-sig"
    raw = opener(path, "rb")
    # universal newlines: a lone CR ends a line, as it does for the XML parser's line numbers
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=None), raw


class _StateScan:
    """Whether a comment, a CDATA section or a container is open after the text fed so far.
    Fed whole lines (a marker is never cut), most of them in large blocks."""

    def __init__(self, containers: frozenset[str]):
        self.containers = containers
        names = "|".join(re.escape(c) for c in sorted(containers)) or r"(?!)"
        self.marks = re.compile(
            rf"<!--|-->|<!\[CDATA\[|\]\]>|<(/?)(?:[\w.\-]+:)?(?:{names})(?=[\s/>])[^<>]*?(/?)>")
        self.comment = self.cdata = False
        self.depth = 0

    def feed(self, text: str) -> None:
        if not ("<!" in text or "-->" in text or "]]>" in text
                or any(c in text for c in self.containers)):
            return  # the usual case: nothing that opens or closes what is tracked
        for m in self.marks.finditer(text):
            token = m.group(0)
            if self.comment:
                self.comment = token != "-->"
            elif self.cdata:
                self.cdata = token != "]]>"
            elif token == "<!--":
                self.comment = True
            elif token == "<![CDATA[":
                self.cdata = True
            elif token in ("-->", "]]>"):
                continue
            elif m.group(1):
                self.depth = max(self.depth - 1, 0)
            elif not m.group(2):
                self.depth += 1

    def state(self) -> MaskState:
        return MaskState(comment=self.comment, cdata=self.cdata, container=self.depth > 0)


class _Reader:
    """A text stream read in blocks: lines before an excerpt are counted and scanned a block at
    a time (at C speed), only the lines of an excerpt are cut out one by one."""

    def __init__(self, stream, scan: _StateScan):
        self.stream, self.scan = stream, scan
        self.n = 1  # the line that self.buf starts
        self.buf = ""

    def _more(self) -> bool:
        block = self.stream.read(_BLOCK_CHARS)
        self.buf += block
        return bool(block)

    def skip_to(self, line: int) -> bool:
        """Drop the lines before `line` (scanned for state); False when the file ends first."""
        while self.n < line:
            needed = line - self.n
            if self.buf.count("\n") >= needed:
                pos = -1
                for _ in range(needed):
                    pos = self.buf.index("\n", pos + 1)
                self.scan.feed(self.buf[: pos + 1])
                self.buf, self.n = self.buf[pos + 1:], line
                return True
            last = self.buf.rfind("\n")
            if last >= 0:
                self.n += self.buf.count("\n", 0, last + 1)
                self.scan.feed(self.buf[: last + 1])
                self.buf = self.buf[last + 1:]
            elif len(self.buf) > 4 * _BLOCK_CHARS:
                # one huge line above the excerpt: scanned, and only its last characters kept
                # (a marker is at most 9 of them, but a container's start tag)
                self.scan.feed(self.buf[:-_TAIL_CHARS])
                self.buf = self.buf[-_TAIL_CHARS:]
            if not self._more():
                return False
        return True

    def line(self) -> str | None:
        """Line self.n's head (at most LINE_HEAD_CHARS), None at the end of the file."""
        while "\n" not in self.buf and len(self.buf) <= LINE_HEAD_CHARS:
            if not self._more():
                break
        if not self.buf:
            return None
        end = self.buf.find("\n")
        if end == -1 and len(self.buf) <= LINE_HEAD_CHARS:  # the last line, without a break
            head, self.buf = self.buf, ""
            self.scan.feed(head)
        elif end != -1 and end <= LINE_HEAD_CHARS:
            head, self.buf = self.buf[:end], self.buf[end + 1:]
            self.scan.feed(head)
        else:  # a long line: its head kept, the rest read (and scanned) up to its end
            head = self.buf[:LINE_HEAD_CHARS]
            self.scan.feed(head)
            self.buf = self.buf[LINE_HEAD_CHARS:]
            while True:
                end = self.buf.find("\n")
                if end != -1:
                    self.scan.feed(self.buf[:end])
                    self.buf = self.buf[end + 1:]
                    break
                self.scan.feed(self.buf[:-_TAIL_CHARS] if len(self.buf) > _TAIL_CHARS else "")
                self.buf = self.buf[-_TAIL_CHARS:]
                if not self._more():
                    self.buf = ""
                    break
        self.n += 1
        return head


def excerpts_for(
    path: Path,
    lines: list,
    fields: FieldClasses = NOTHING_PUBLIC,
    context: int = CONTEXT,
    width: int = 160,
) -> dict:
    """For each wanted line of the raw file (1-based), the masked lines around it as (line
    number in the raw file, text); a line past the end of the file has no entry. One pass over
    the file, up to the last line wanted. Raises NotText.

    A wanted line is a line number or a `Focus` (line, field name, column): a line longer
    than `width` is then shown around that field (or column) rather than from its start, as a
    generated file writes a whole record on one line. The result is keyed as asked."""
    focus = {item: item if isinstance(item, Focus) else Focus(item) for item in lines}
    wanted = sorted({f.line for f in focus.values() if f.line and f.line > 0})
    if not wanted:
        return {}
    stream, _ = _open_text(path)
    out: dict[int, list[tuple[int, str]]] = {}
    reader = _Reader(stream, _StateScan(fields.containers))
    try:
        for lo, hi in _windows(wanted, context):
            if not reader.skip_to(lo):
                break
            state = reader.scan.state()
            window = []
            while reader.n <= hi:
                head = reader.line()
                if head is None:
                    break
                window.append(head)
            if window:
                _finish(out, focus, lo, window, state, fields, context, width)
    except (OSError, EOFError):
        pass  # a gzip stream cut short: the excerpts read before the break stand
    finally:
        stream.close()
    return out


def _windows(wanted: list[int], context: int) -> list[tuple[int, int]]:
    """The line ranges to read, overlapping ones merged."""
    out: list[list[int]] = []
    for ln in wanted:
        lo, hi = max(1, ln - context), ln + context
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def _finish(out, focus, lo, window, state, fields, context, width) -> None:
    masked = mask_xml("\n".join(window), fields, state).split("\n")
    hi = lo + len(masked) - 1
    for key, f in focus.items():
        if f.line and lo <= f.line <= hi:
            first, last = max(lo, f.line - context), min(hi, f.line + context)
            offset = _offset(masked[f.line - lo], f, width)
            # rows as long as the error line are shown from the same place, so that they align
            out[key] = [(n, _cut(masked[n - lo], offset if len(masked[n - lo]) > width else 0,
                                 width)) for n in range(first, last + 1)]


@dataclass(frozen=True)
class Focus:
    """Where an excerpt looks: a line, and on a long line the field (element or attribute local
    name) or the column (1-based) the finding is about."""

    line: int | None
    name: str | None = None
    column: int | None = None


def _offset(text: str, focus: Focus, width: int) -> int:
    """Where to start showing a long line: a little before the field the finding is about
    (the occurrence nearest its column), else before its column, else at the start."""
    if len(text) <= width:
        return 0
    at = None
    if focus.name:
        name = re.escape(focus.name)
        found = [m.start() for m in re.finditer(
            rf"<(?:[\w.\-]+:)?{name}(?=[\s/>])|(?<![\w.:\-]){name}\s*=", text)]
        if found:
            col = (focus.column or 1) - 1
            at = min(found, key=lambda p: abs(p - col))
    if at is None and focus.column:
        at = min(focus.column - 1, len(text) - 1)
    return max(0, (at or 0) - width // 4)


def _cut(text: str, offset: int, width: int) -> str:
    """`width` characters of a line from `offset`, a cut marked `…` at either end; control
    characters written as escapes."""
    text = text.rstrip("\r")
    part = text[offset:offset + width]
    if offset > 0 and part:
        part = "… " + part
    if offset + width < len(text):
        part += " …"
    return printable(part)


_ATTRIBUTE_IN_MESSAGE = re.compile(r"attribute '([^']+)'")


def focus_of(finding: dict) -> Focus:
    """The `Focus` of a finding (a row of quality.finding): its line, the attribute its message
    names or else the last element of its XML path, its column."""
    line = finding.get("line")
    line = None if data.missing(line) else int(line)
    column = finding.get("column")
    column = None if data.missing(column) else int(column)
    message = finding.get("message")
    m = _ATTRIBUTE_IN_MESSAGE.search(message) if isinstance(message, str) else None
    name = m.group(1) if m else None
    path = finding.get("path")
    if name is None and isinstance(path, str) and path:
        last = re.sub(r"\[.*?\]", "", path.rstrip("/")).rpartition("/")[2]
        name = last.lstrip("@").rpartition(":")[2] or None
    return Focus(line, name, column)


def entry_excerpts(
    landing_dir: Path,
    entry: dict,
    findings,
    fields: FieldClasses = NOTHING_PUBLIC,
    context: int = CONTEXT,
    limit: int = MAX_EXCERPTS_PER_ENTRY,
) -> dict:
    """The excerpts of one entry, numbered as in the delivered file, for its findings (rows of
    quality.finding: line, column, path, message; a bare line number also does), or the
    entry's first line when none has a line. At most `limit` excerpts; a finding already
    visible in an earlier excerpt (its line near and, on the same line, the same field) gets
    none.

    Returns {"raw": "missing" | "binary" | "text", "excerpts": [{"line", "beyond", "rows":
    [{"n", "text", "hit"}]}]}: `n` and `line` are lines of the delivered file, `hit` marks the
    error line, `beyond` a line past the end of the kept raw text."""
    raw = raw_file_for(landing_dir, entry)
    if raw is None:
        return {"raw": "missing", "excerpts": []}
    wanted = []
    for f in findings:
        fo = focus_of(f) if isinstance(f, dict) else Focus(None if data.missing(f) else int(f))
        ln = file_line_to_raw(entry, fo.line)
        if ln and ln > 0:
            wanted.append(Focus(ln, fo.name, fo.column))
    wanted = sorted(set(wanted), key=lambda f: (f.line, f.name or "", f.column or 0)) or [Focus(1)]
    shown: list[Focus] = []
    for fo in wanted:
        if any((fo.line == s.line and fo.name == s.name)
               or (fo.line != s.line and abs(fo.line - s.line) <= context) for s in shown):
            continue  # already visible in an earlier excerpt
        shown.append(fo)
        if len(shown) == limit:
            break
    try:
        found = excerpts_for(raw, shown, fields, context)
    except NotText:
        return {"raw": "binary", "excerpts": []}
    excerpts = []
    for fo in shown:
        rows = [
            {"n": raw_line_to_file(entry, n), "text": text, "hit": n == fo.line}
            for n, text in found.get(fo, [])
        ]
        excerpts.append({"line": raw_line_to_file(entry, fo.line), "beyond": fo not in found,
                         "rows": rows})
    return {"raw": "text", "excerpts": excerpts}
