"""Streaming validation and extraction of one landed file.

Two passes over the file, both with the hardened parser of `xmlsafe` and a C-level tag filter
(events only for the root, containers and records):

1. records only (`RecordIds`): proves the file well-formed within the size limit (F01, F06,
   F07) and counts record identities, so B04 knows before any row is written which
   formNumbers / CaseNumbers occur twice (every copy is quarantined). Its root element then
   gives F02, F03, the root's attribute errors (F08) and F05. It reads the landed file, or has
   already read the download's bytes as they arrived (`pass1`; ingestion/process.py). A file
   of at most KEEP_TREE_MAX_BYTES keeps the tree it parsed, with the events pass 2 reads, and
   pass 2 replays them (`replay`) instead of parsing the file again;
2. each record, as soon as it ends, is moved under a small wrapper (a copy of the root and of its
   container, same attributes) and validated alone against the schema; errors in it, or on its
   Contact's attributes, are S01; then the record rules run, then extraction. An XInclude
   element or schema-location hint anywhere is F06; they are searched for only once the
   document has declared their namespace (the parser reports every declaration). Whatever lies
   between records (a stray element, character content, an empty Contact) is validated the same
   way when its parent ends, and any error there is F08.

Processed elements are detached, so memory follows the largest record, not the file. Outputs go
to a `sink` that keeps them per file: a file-level finding discards what the file produced.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from deflect.core.fields import MASK, FieldClasses, shown_value
from ingestion import xmlsafe
from ingestion.adapter import Adapter, FileContext
from ingestion.findings import F02, F03, F06, F08, S01, Finding, check_duplicate_in_file
from ingestion.xmlsafe import FileRejected

log = logging.getLogger(__name__)

# A record (or what lies between records) holding this many elements or more is validated as a
# copy instead of being moved into the wrapper: moving an element out of the parsed document
# costs time in proportion to its subtree for each node (lxml keeps namespaces right), so a
# record flooded with 200,000 empty elements took minutes. A copy costs time in proportion to its
# size, once. Counted in elements, not bytes: a record with a large attachment is one text node
# and moves in constant time, where copying it cost 0.6 s of CPU a night (docs/performance.md).
MOVE_LIMIT_ELEMENTS = 2_000
LEFTOVER_CHUNK = 1_000  # what lies between records is validated this many elements at a time
# A file up to this size (as listed; a gzip file's once decompressed) keeps the tree pass 1
# parsed, while it downloaded or from the landed file, and pass 2 replays pass 1's events over it
# instead of parsing the file again: one parse per file.
# The tree costs a few times the file's size in memory, held while the file is checked; a
# larger file is parsed again, a record at a time, in bounded memory (docs/performance.md).
KEEP_TREE_MAX_BYTES = 32 * 2**20
# ... and stops keeping it (pass 2 then parses the file) once the process has grown by this much
# since pass 1 began: a genuine export's tree is about three times its size, but a flood of tiny
# elements can be thirty times, and a file must not run into its memory budget (file_memory_mb,
# 256 MB by default) for a tree it did not need to keep.
KEEP_TREE_MAX_GROWTH = 128 * 2**20
# what pass 2 reads: starts and ends of the root, containers and records, and every namespace
# declaration (whatever the tag filter)
PASS2_EVENTS = ("start", "end", "start-ns")


@dataclass
class DocumentResult:
    file_findings: list[Finding] = field(default_factory=list)
    records_loaded: int = 0
    records_quarantined: int = 0
    # records recognised as accepted before (same record id and record SHA-256): neither
    # validated nor extracted again; every record of the file is in one of these three counts
    records_already_accepted: int = 0
    # (record_id, record_sha256) of the records this file had accepted, for the batch to remember
    # once the file is committed (ingestion/process.py)
    accepted: list[tuple[str, str]] = field(default_factory=list)
    schema_version: str | None = None  # the root's, once pass 1 has read it


def record_sha256(c14n: bytes) -> str:
    return hashlib.sha256(c14n).hexdigest()


def c14n(el) -> bytes:
    """Exclusive C14N of a record: the same record gives the same bytes in any file."""
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False, with_tail=False)


# -- schema registry ---------------------------------------------------------------------------

def _registry():
    from schemas import registry
    return registry


# Where a schema message quotes the offending value: "Element 'x': '<value>' is not a valid
# value ...", "... The value '<value>' is not ...". A value schemas.registry shortened is
# followed by its size ("'abc…' (300 characters)"), which is kept.
_SHORTENED = r"(?: \((?:\d+ characters|value cut by libxml2)\))?"
_VALUE_PATTERNS = (
    re.compile(r"(: )'(.*?)'(" + _SHORTENED + r" is not )", re.DOTALL),
    re.compile(r"(The value )'(.*?)'(" + _SHORTENED + r" )", re.DOTALL),
)


def redact(message: str, personal: bool = True) -> str:
    """A schema message as a finding keeps it: the offending value masked when the field is
    personal (a name, a birth date), else shown (cut to a readable length, control characters
    escaped); the element, attribute, type and facet are kept."""
    def value(m: re.Match) -> str:
        shown = MASK if personal else shown_value(m.group(2))
        return f"{m.group(1)}'{shown}'{m.group(3)}"
    for pat in _VALUE_PATTERNS:
        message = pat.sub(value, message)
    return message.strip()


def _field_is_personal(err, fields: FieldClasses) -> bool:
    """Whether the value a schema error is about may be personal: its attribute's, else its
    element's (unknown: yes)."""
    if err.attribute:
        return fields.attribute_is_personal(err.attribute)
    return fields.element_is_personal(err.element)


def element_path(el, anchors) -> str:
    """A readable path of `el`: up to the nearest anchor (an element whose real path in the file
    is known: the record, a container or root copy in the wrapper), then down with local names,
    indexed where siblings share a name."""
    parts = []
    prefix = ""
    while el is not None:
        hit = next((p for a, p in anchors if a is el), None)
        if hit is not None:
            prefix = hit
            break
        parent = el.getparent()
        name = etree.QName(el).localname if isinstance(el.tag, str) else "node()"
        if parent is not None:
            same = [c for c in parent if c.tag == el.tag]
            if len(same) > 1:
                name += f"[{same.index(el) + 1}]"
        parts.append(name)
        el = parent
    return prefix + "".join("/" + p for p in reversed(parts))


@dataclass
class _Level:
    """An open element at or above the record level, in the file and in the wrapper."""

    el: object
    path: str
    ok: bool  # root / expected container on the expected path
    copy: object = None  # its shallow copy inside the wrapper
    children: Counter = field(default_factory=Counter)
    records: int = 0


class _Schema:
    def __init__(self, entry):
        self.entry = entry
        self._validate = _registry().validate

    def errors(self, wrapper_root):
        return self._validate(wrapper_root, self.entry)


def _error_element(err, wrapper_root):
    el = getattr(err, "element", None)
    if isinstance(el, etree._Element):
        return el
    if getattr(err, "path", None):
        try:
            found = wrapper_root.getroottree().xpath(err.path)
            if found and isinstance(found[0], etree._Element):
                return found[0]
        except etree.XPathError:
            pass
    return None


def _shallow_copy(el):
    copy = etree.Element(el.tag, dict(el.attrib), nsmap=el.nsmap)
    try:
        copy.sourceline = el.sourceline
    except OverflowError:  # libxml2 keeps settable lines in 16 bits; findings use the original's
        pass
    return copy


def _discard(el) -> None:
    """Take `el` out of its tree and free what is inside it.

    Emptied first: lxml's remove() of an element that still holds a subtree walks the whole
    subtree for every node it moves (to keep namespaces right), which made a record of 200,000
    empty elements cost minutes; clear() frees the children without moving them, and removing
    the empty element is then constant time."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


XINCLUDE = "{http://www.w3.org/2001/XInclude}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_HINTS = (XSI + "schemaLocation", XSI + "noNamespaceSchemaLocation")


def _external_reference(el, deep: bool = True):
    """The first XInclude element or schema-location hint in `el` (or on `el` alone): an
    external reference (F06) wherever it sits, `OtherForm`'s free content included. Nothing
    resolves them here, but a consumer downstream might; the file is refused as the spec
    says."""
    for node in (el.iter() if deep else (el,)):
        if not isinstance(node.tag, str):
            continue
        if node.tag.startswith(XINCLUDE):
            return node, "an XInclude element"
        for attr in _HINTS:
            if attr in node.attrib:
                return node, f"a schema location hint (xsi:{attr[len(XSI):]})"
    return None


# Whether an element holds what _external_reference looks for, in one XPath evaluation in C: the
# walk in Python (or a search of the record's bytes) costs several times as much per record.
# Neither is needed until the document has declared one of these namespaces: an element or
# attribute in them must be bound by a declaration, which the parser reports (a "start-ns" event,
# its URI resolved, character references and all) before the element that holds it ends.
_REFERENCES = etree.XPath(
    "boolean(descendant-or-self::xi:* | descendant-or-self::*/@xsi:schemaLocation"
    " | descendant-or-self::*/@xsi:noNamespaceSchemaLocation)",
    namespaces={"xi": XINCLUDE[1:-1], "xsi": XSI[1:-1]})
_REFERENCE_NAMESPACES = frozenset({XINCLUDE[1:-1], XSI[1:-1]})


def _reject_reference(found, path: str | None = None):
    node, what = found
    raise FileRejected(F06.finding(f"{what} in the document", line=node.sourceline, path=path))


def _smaller_than(el, limit: int) -> bool:
    """Whether `el` holds at most `limit` nodes, itself included (counting stops past the
    limit, in C)."""
    return next(itertools.islice(el.iter(), limit, None), None) is None


def _twin_line(target, copy_root, original_root) -> int | None:
    """The line of the element of `original_root` at the place `target` has in its copy."""
    for c, o in zip(copy_root.iter(), original_root.iter()):
        if c is target:
            return o.sourceline
    return None


def _has_text(s: str | None) -> bool:
    return bool(s and s.strip())


class RecordIds:
    """Pass 1: the identities of the records in their place, and the root element (its
    attributes only left), from the events of a hardened parse. Of the landed file
    (`count_record_ids`), or of a download's bytes as they arrive (`feed`, then `close`;
    ingestion/process.py), so that the file is parsed once fewer times after it lands.

    `keep`: keep the whole tree and the events pass 2 reads (`events`), for pass 2 to replay
    instead of parsing the file again (KEEP_TREE_MAX_BYTES); otherwise what pass 1 has read is
    freed as it goes."""

    def __init__(self, adapter: Adapter, budget: xmlsafe.FileBudget | None = None,
                 keep: bool = False):
        self.adapter = adapter
        self.rec_q = adapter.qname(adapter.record)
        self.tags = [self.rec_q, *(adapter.qname(c) for c in adapter.containers)]
        # a record's ancestors as the document structure names them, nearest first
        self.ancestors = tuple(adapter.qname(x) for x in reversed([adapter.root,
                                                                     *adapter.containers]))
        self.counts: Counter = Counter()
        self.budget = budget  # for `feed`: a landed file's reader checks its own
        self._root_attrib: dict | None = None
        # the events pass 2 asks for (DocumentProcessor._pass2), over the tree kept whole; None
        # when not keeping it (or no longer: see check_kept)
        self.events: list | None = [] if keep else None
        self._base_rss = xmlsafe.resident_bytes() if keep else 0
        self._feed = xmlsafe.SafeFeed(**self.parse_options())

    def parse_options(self) -> dict:
        """The events and tags it reads: pass 2's when it keeps the tree for pass 2."""
        if self.events is not None:
            return {"events": PASS2_EVENTS,
                    "tag": [self.adapter.qname(self.adapter.root), *self.tags]}
        return {"events": ("end",), "tag": self.tags}

    def feed(self, data: bytes) -> None:
        """Raises FileRejected: F01/F06, F09 once the budget is spent."""
        if self.budget is not None:
            self.budget.check()
        self.take(self._feed.feed(data))
        self.check_kept()

    def close(self) -> tuple[Counter, object]:
        self.take(self._feed.close())
        return self.result(self._feed.root)

    def check_kept(self) -> None:
        """Stop keeping the tree once it has cost KEEP_TREE_MAX_GROWTH: from then on what pass 1
        has read is freed as it goes, as when not keeping (pass 2 will parse the file)."""
        if self.events is not None and \
                xmlsafe.resident_bytes() - self._base_rss > KEEP_TREE_MAX_GROWTH:
            self.events = None

    def take(self, events) -> None:
        rec_q, ancestors, record_id = self.rec_q, self.ancestors, self.adapter.record_id
        for item in events:
            event, el = item
            kept = self.events
            if kept is not None:
                kept.append(item)
                if len(kept) % 512 == 0:
                    self.check_kept()
            if event != "end":  # (a start or a declaration, asked for when keeping the tree)
                continue
            parent = el.getparent()
            if el.tag == rec_q and _in_place(parent, ancestors):
                if self._root_attrib is None:
                    self._root_attrib = dict(el.getroottree().getroot().attrib)
                rid = record_id(el.attrib, self._root_attrib)
                if rid:
                    self.counts[rid] += 1
            if self.events is None and parent is not None:
                el.clear()
                while el.getprevious() is not None:
                    del parent[0]

    def result(self, root) -> tuple[Counter, object]:
        if root is not None and (len(root) or self.events is not None):
            # only the root's name, attributes and line are wanted: whatever else pass 1 kept
            # under it (elements that are neither containers nor records) is freed now, not
            # held during pass 2 (unless the tree is kept for pass 2 to replay)
            kept = _shallow_copy(root)
            if self.events is None:
                root.clear()
            root = kept
        return self.counts, root


def count_record_ids(path: Path, adapter: Adapter, max_bytes: int,
                     compressed: bool = False, budget=None,
                     ids: RecordIds | None = None) -> tuple[Counter, object]:
    """Pass 1 over a landed file (RecordIds; `ids`: this one, keeping the tree or not). Raises
    FileRejected: F01/F06/F07/F09."""
    ids = ids or RecordIds(adapter)
    if ids.events is not None:  # what a tree costs is looked at for every chunk read, too
        budget = _KeptTreeCheck(ids, budget)
    it = xmlsafe.iterparse(path, max_bytes, compressed, budget, **ids.parse_options())
    ids.take(it)
    return ids.result(it.root)


class _KeptTreeCheck:
    """The file's budget, checked for every chunk the landed file's reader reads, and pass 1's
    kept tree with it (RecordIds.check_kept): what lies between records gives no event."""

    def __init__(self, ids: RecordIds, budget: xmlsafe.FileBudget | None):
        self.ids, self.budget = ids, budget

    def check(self, line: int | None = None) -> None:
        if self.budget is not None:
            self.budget.check(line)
        self.ids.check_kept()


def _drain(events: list):
    """The events in order, each let go of once read: a record pass 2 has discarded is freed
    then, as it is when pass 2 parses the file."""
    events.reverse()
    while events:
        yield events.pop()


def _in_place(parent, ancestors: tuple[str, ...]) -> bool:
    """True when an element whose parent is `parent` sits root/containers.../it as the
    document structure says (`ancestors`: their qualified names, nearest first)."""
    p = parent
    for tag in ancestors:
        if p is None or p.tag != tag:
            return False
        p = p.getparent()
    return p is None


class DocumentProcessor:
    """Both passes over one file; see the module docstring."""

    def __init__(self, path: Path, adapter: Adapter, ctx: FileContext, sink, max_bytes: int,
                 budget: xmlsafe.FileBudget | None = None, known=None, pass1=None,
                 replay: list | None = None):
        self.path, self.adapter, self.ctx, self.sink = path, adapter, ctx, sink
        # (counts, root) of pass 1 when it already ran over these bytes (RecordIds fed by the
        # download); None: pass 1 reads the file. `replay`: the events pass 2 reads, over the
        # tree that pass 1 kept (RecordIds(keep=True)); None: pass 2 parses the file
        self.max_bytes = max_bytes
        self.budget = budget  # time and memory this file may take (F09 past them)
        # known(schema_version, record_ids) -> {(record_id, record_sha256)} accepted before:
        # asked once, after pass 1, for the ids that occur once in the file
        self.known_lookup = known
        self.known: set[tuple[str, str]] = set()
        self.pass1 = pass1
        self.replay = replay if pass1 is not None else None
        # (k, n): validate and extract only the records whose index in the file is k modulo n;
        # everything structural is still checked (ingestion/shards.py runs the n shards)
        self.shard = (0, 1)
        self.record_index = 0
        self.compressed = ctx.file_name.endswith(".gz")
        self.result = DocumentResult()
        self.schema: _Schema | None = None
        self.counts: Counter = Counter()
        self.levels: list[_Level] = []
        self.root_copy = None
        self.root_q = adapter.qname(adapter.root)
        self.rec_q = adapter.qname(adapter.record)
        self.cont_q = [adapter.qname(c) for c in adapter.containers]
        self.record_depth = len(adapter.containers) + 1
        # whether the document has so far declared the XInclude or XSI namespace: until then
        # nothing in it can be an external reference (F06), and nothing is searched for one
        self.references_possible = False

    # -- driver -----------------------------------------------------------------------------
    def run(self) -> DocumentResult:
        try:
            self.prepare()
            self._pass2()
        except FileRejected as rej:
            self.result.file_findings.append(rej.finding)
        return self.result

    def prepare(self) -> None:
        """Pass 1 and the root checks. Raises FileRejected."""
        if self.pass1 is not None:
            self.counts, root = self.pass1
        else:
            size = (xmlsafe.check_decompressed_size(self.path, self.max_bytes, self.budget)
                    if self.compressed else self.path.stat().st_size)
            # a small file's tree is kept for pass 2 to replay, as when pass 1 read the download
            ids = RecordIds(self.adapter, keep=size <= KEEP_TREE_MAX_BYTES)
            self.counts, root = count_record_ids(self.path, self.adapter, self.max_bytes,
                                                 self.compressed, self.budget, ids)
            self.replay = ids.events
        self._root(root)
        version = self.ctx.root_attrib.get(self.adapter.version_attribute)
        self.result.schema_version = version
        if self.known_lookup is not None:
            # an id that occurs twice in the file is B04 for every copy: never skipped
            single = [rid for rid, n in self.counts.items() if n == 1]
            if single:
                self.known = set(self.known_lookup(version, single))

    def pass2(self) -> DocumentResult:
        """Pass 2 alone (after `prepare`), for this processor's shard of the records."""
        try:
            self._pass2()
        except FileRejected as rej:
            self.result.file_findings.append(rej.finding)
        return self.result

    def _pass2(self) -> None:
        # Events only for the root, containers and records (C-level filter): what lies between
        # them is checked when its parent ends, what lies inside a record goes with the record.
        root_q, rec_q, conts = self.root_q, self.rec_q, set(self.cont_q)
        if self.replay is not None:
            it, self.replay = _drain(self.replay), None
        else:
            it = xmlsafe.iterparse(self.path, self.max_bytes, self.compressed, self.budget,
                                   events=PASS2_EVENTS, tag=[root_q, rec_q, *self.cont_q])
        for event, el in it:
            if event == "start-ns":  # every declaration, whatever the tag filter: (prefix, URI)
                if el[1] in _REFERENCE_NAMESPACES:
                    self.references_possible = True
                continue
            if event == "start":
                if el.tag == root_q and el.getparent() is None:
                    self.levels = [_Level(el, f"/{self.adapter.root}", True, self.root_copy)]
                elif el.tag in conts and self.levels:
                    self._container_start(el)
                continue
            if el.tag == rec_q:
                top = self.levels[-1]
                if len(self.levels) == self.record_depth and top.ok and el.getparent() is top.el:
                    self._record(el, top)
            elif self.levels and self.levels[-1].el is el:
                self._end_level(self.levels.pop())

    # -- root and containers ------------------------------------------------------------------
    def _container_start(self, el) -> None:
        top = self.levels[-1]
        depth = len(self.levels)
        if depth > len(self.cont_q) or not top.ok or el.getparent() is not top.el \
                or el.tag != self.cont_q[depth - 1]:
            return  # out of place: one of its parent's leftovers, or inside a record
        top.children[el.tag] += 1
        path = f"{top.path}/{etree.QName(el).localname}[{top.children[el.tag]}]"
        found = self.references_possible and _external_reference(el, deep=False)
        if found:
            _reject_reference(found, path)
        copy = _shallow_copy(el)
        top.copy.append(copy)
        self.levels.append(_Level(el, path, True, copy))

    def _root(self, el) -> None:
        a = self.adapter
        q = etree.QName(el)
        if q.namespace != a.namespace or q.localname != a.root:
            raise FileRejected(F02.finding(
                f"expected {{{a.namespace}}}{a.root}, found {{{q.namespace or ''}}}{q.localname}",
                line=el.sourceline, path=f"/{q.localname}"))
        registry = _registry()
        version = el.get(a.version_attribute)
        try:
            entry = registry.get_schema(a.schemas, version)
        except registry.UnsupportedVersion:
            raise FileRejected(F03.finding(f"{a.version_attribute}={version!r}",
                                           line=el.sourceline, path=f"/{a.root}")) from None
        self.schema = _Schema(entry)
        found = _external_reference(el, deep=False)
        if found:
            _reject_reference(found, f"/{a.root}")
        self.root_copy = _shallow_copy(el)
        attr_errors = self.schema.errors(self.root_copy)
        if attr_errors:
            self._reject_f08(attr_errors, self.root_copy, [(self.root_copy, f"/{a.root}")],
                             line=el.sourceline)
        self.ctx.root_attrib = dict(el.attrib)
        self.ctx.extra = a.file_context_extra(self.ctx.root_attrib)
        f05 = a.check_file_name(self.ctx.file_name, self.ctx.root_attrib, self.ctx.source)
        if f05:
            raise FileRejected(f05[0])

    def _end_level(self, level: _Level) -> None:
        """What is left in a container or the root once its records are gone: stray text, or
        elements that are not records (an OtherForm, a stray element) validated in the wrapper,
        a chunk at a time so that a flood of them costs linear time and bounded memory."""
        el = level.el
        if _has_text(el.text):
            raise FileRejected(F08.finding("character content outside every record",
                                           line=el.sourceline, path=level.path))
        validate_empty = level.records == 0
        while True:
            chunk = list(itertools.islice(el, LEFTOVER_CHUNK))
            if not chunk and not validate_empty:
                break
            validate_empty = False
            if self.budget is not None:
                self.budget.check(el.sourceline)
            if any(_has_text(c.tail) for c in chunk):
                raise FileRejected(F08.finding("character content outside every record",
                                               line=el.sourceline, path=level.path))
            if self.references_possible:
                for child in chunk:
                    found = _external_reference(child)
                    if found:
                        _reject_reference(found, level.path)
            # large leftovers are validated as copies, as large records are (MOVE_LIMIT_ELEMENTS)
            nodes = [c if _smaller_than(c, MOVE_LIMIT_ELEMENTS) else copy.deepcopy(c)
                     for c in chunk]
            for node in nodes:
                level.copy.append(node)
            errors = self.schema.errors(self.root_copy)
            if level.records:
                # its own attribute errors were S01 for each of its records
                errors = [e for e in errors if _error_element(e, self.root_copy) is not level.copy]
            if errors:
                self._reject_f08(errors, self.root_copy, self._anchors([(level.copy, level.path)]))
            for node, child in zip(nodes, chunk):
                _discard(node)
                if node is not child:
                    _discard(child)
            if len(chunk) < LEFTOVER_CHUNK:
                break
        if self.levels:  # not the root: drop it from the wrapper and from the document
            _discard(level.copy)
            _discard(el)
            self.levels[-1].records += level.records

    def _anchors(self, extra=()):
        return [(lv.copy, lv.path) for lv in self.levels if lv.copy is not None] + list(extra)

    def _reject_f08(self, errors, wrapper_root, anchors, line=None):
        err = errors[0]
        el = _error_element(err, wrapper_root)
        path = element_path(el, anchors) if el is not None else err.path
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = redact(err.message, _field_is_personal(err, self.adapter.fields))
        raise FileRejected(F08.finding(message + more, line=line or err.line or None,
                                       column=err.column or None, path=path))

    # -- records ----------------------------------------------------------------------------
    def _record(self, el, parent: _Level) -> None:
        a, ctx = self.adapter, self.ctx
        if self.budget is not None:
            self.budget.check(el.sourceline)
        parent.records += 1
        parent.children[el.tag] += 1
        index, (k, n) = self.record_index, self.shard
        self.record_index += 1
        if index % n != k:  # another shard's record: only its place in the structure counts
            _discard(el)
            return
        line = el.sourceline
        rec_path = f"{parent.path}/{a.record}[{parent.children[el.tag]}]"
        rid = a.record_id(el.attrib, ctx.root_attrib) or ""
        version = a.record_version(el)
        el.tail = None
        raw = c14n(el)
        if self.references_possible and _REFERENCES(el):  # then the walk that names it
            _reject_reference(_external_reference(el), rec_path)
        rsha = record_sha256(raw)
        if self.known and (rid, rsha) in self.known:
            # the same bytes under the same id were accepted before (a cumulative MEG window
            # re-sends a case every night): validation and extraction would give the same rows,
            # which the load would ignore as an equal version already staged
            self.result.records_already_accepted += 1
            _discard(el)
            return
        # validated in the wrapper: the record itself when small, a copy when large (its lines
        # past 65,535 are then taken from the original, which the rules and extraction read)
        node = el if _smaller_than(el, MOVE_LIMIT_ELEMENTS) else copy.deepcopy(el)
        parent.copy.append(node)
        try:
            findings = self._schema_findings(node, rec_path, original=el)
            if not findings:
                findings = a.record_rules(el, ctx) + check_duplicate_in_file(
                    rid, self.counts, line=line, path=rec_path)
                findings = [self._with_path(f, el, rec_path) for f in findings]
            rows = []
            if not findings:
                try:
                    rows = list(a.extract(el, ctx, rid, rsha))
                except (KeyError, ValueError) as exc:
                    # the schema should make this impossible (a code outside the vocabulary, a
                    # date that does not parse); never let one record stop the batch
                    findings = [S01.finding(f"value not accepted by extraction "
                                            f"({type(exc).__name__})", line=line, path=rec_path)]
            if findings:
                self.result.records_quarantined += 1
                self.sink.quarantine_record(rid, version, rsha, findings, line, raw)
            else:
                self.result.records_loaded += 1
                if rid:
                    self.result.accepted.append((rid, rsha))
                for table, row in rows:
                    self.sink.row(table, row)
        finally:
            _discard(node)
            if node is not el:
                _discard(el)

    def _with_path(self, f: Finding, el, rec_path: str) -> Finding:
        if f.path is None:
            return Finding(f.code, f.level, f.message, f.line, f.column, rec_path)
        if not f.path.startswith("/"):
            return Finding(f.code, f.level, f.message, f.line, f.column, f"{rec_path}/{f.path}")
        return f

    def _schema_findings(self, el, rec_path: str, original=None) -> list[Finding]:
        """S01 for every schema error of the record `el` (in the wrapper); `original`: the record
        in the document when `el` is a copy of it (copies keep lines up to 65,535 only)."""
        out = []
        for err in self.schema.errors(self.root_copy):
            target = _error_element(err, self.root_copy)
            # errors on the container's own attributes (Contact) are S01 for each of its records
            path = rec_path if target is None else element_path(
                target, self._anchors([(el, rec_path)]))
            line = err.line
            for lv in self.levels:
                if target is not None and lv.copy is target:
                    line = lv.el.sourceline
            if original is not None and original is not el and target is not None \
                    and not (line and line < 65535):
                line = _twin_line(target, el, original) or line
            personal = _field_is_personal(err, self.adapter.fields)
            out.append(S01.finding(redact(err.message, personal), line=line or None,
                                   column=err.column or None, path=path))
        return out
