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
    entry_excerpts(landing_dir, entry, lines, fields, ...) -> what the report and `show` print
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

from deflect.core.fields import NOTHING_PUBLIC, FieldClasses
from stewardship import data
from stewardship.masking import MaskState, excerpt_lines, mask_xml

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
    lines: list[int],
    fields: FieldClasses = NOTHING_PUBLIC,
    context: int = CONTEXT,
    width: int = 160,
) -> dict[int, list[tuple[int, str]]]:
    """For each wanted line (of the raw file, 1-based), the masked lines around it as (line
    number in the raw file, text); a line past the end of the file has no entry. One pass over
    the file, up to the last line wanted. Raises NotText."""
    wanted = sorted({ln for ln in lines if ln and ln > 0})
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
                _finish(out, wanted, lo, window, state, fields, context, width)
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


def _finish(out, wanted, lo, window, state, fields, context, width) -> None:
    masked = mask_xml("\n".join(window), fields, state).split("\n")
    hi = lo + len(masked) - 1
    for ln in wanted:
        if lo <= ln <= hi:
            out[ln] = excerpt_lines(masked, ln, context, width, first=lo)


def entry_excerpts(
    landing_dir: Path,
    entry: dict,
    file_lines,
    fields: FieldClasses = NOTHING_PUBLIC,
    context: int = CONTEXT,
    limit: int = MAX_EXCERPTS_PER_ENTRY,
) -> dict:
    """The excerpts of one entry, numbered as in the delivered file, for its findings' lines
    (`file_lines`, lines of the delivered file; the entry's own line when none). At most
    `limit` excerpts; an error line already visible in the previous excerpt gets none.

    Returns {"raw": "missing" | "binary" | "text", "excerpts": [{"line", "beyond", "rows":
    [{"n", "text", "hit"}]}]}: `n` and `line` are lines of the delivered file, `hit` marks the
    error line, `beyond` a line past the end of the kept raw text."""
    raw = raw_file_for(landing_dir, entry)
    if raw is None:
        return {"raw": "missing", "excerpts": []}
    in_raw = sorted({r for r in (file_line_to_raw(entry, ln) for ln in file_lines) if r and r > 0})
    if not in_raw:
        in_raw = [1]
    shown: list[int] = []
    for ln in in_raw:
        if shown and ln - shown[-1] <= context:
            continue  # already visible in the previous excerpt
        shown.append(ln)
        if len(shown) == limit:
            break
    try:
        found = excerpts_for(raw, shown, fields, context)
    except NotText:
        return {"raw": "binary", "excerpts": []}
    excerpts = []
    for ln in shown:
        file_line = raw_line_to_file(entry, ln)
        rows = [
            {"n": raw_line_to_file(entry, n), "text": text, "hit": n == ln}
            for n, text in found.get(ln, [])
        ]
        excerpts.append({"line": file_line, "beyond": ln not in found, "rows": rows})
    return {"raw": "text", "excerpts": excerpts}
