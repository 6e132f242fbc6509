"""Schema registry: an interface's `SchemaSet` and a version → compiled XML Schema, and a fast
validation helper. Each adapter declares its `SchemaSet` (the XSD files live in this folder).

Schemas are compiled once per process. lxml's XMLSchema keeps one error log per object, so
`validate` holds a per-schema lock around validating and reading that log: safe when threads
share an entry, uncontended (cheap) in the usual one-process-per-task setting.
"""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from schemas import positions

SCHEMA_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class SchemaSet:
    """The schemas of one interface, as its adapter declares them: its namespace, the root
    attribute that names the version, and one XSD file per supported version."""

    kind: str
    label: str  # for messages: "TraCS export"
    namespace: str
    version_attribute: str
    files: tuple[tuple[str, Path], ...]  # (version, XSD path), in the order versions are listed

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.files)

    def path(self, version: str) -> Path:
        return dict(self.files)[version]


class UnsupportedVersion(ValueError):
    """No schema for this version of the interface."""

    def __init__(self, schemas: SchemaSet, version: str | None = None):
        self.namespace, self.version = schemas.namespace, version
        shown = "(none given)" if version is None else repr(version)
        super().__init__(f"unsupported {schemas.label} version {shown} "
                         f"(supported: {', '.join(schemas.versions)})")


@dataclass(frozen=True, eq=False)
class SchemaEntry:
    kind: str  # "tracs" | "meg"
    namespace: str
    version: str
    path: Path
    xsd: etree.XMLSchema = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def xmlschema_schema(self):
        """The same schema as an `xmlschema.XMLSchema10` (slower, richer messages), built on
        first use and shared."""
        return _xmlschema_for(self.path)


def _schema_parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


_compile_lock = threading.Lock()


@functools.cache
def _compile(schemas: SchemaSet, version: str) -> SchemaEntry:
    path = schemas.path(version)
    xsd = etree.XMLSchema(etree.parse(str(path), _schema_parser()))
    return SchemaEntry(schemas.kind, schemas.namespace, version, path, xsd)


def get_schema(schemas: SchemaSet, version: str | None) -> SchemaEntry:
    """The compiled schema of the interface at `version`; the same object on every call."""
    if version not in schemas.versions:
        raise UnsupportedVersion(schemas, version)
    with _compile_lock:  # a second thread waits instead of compiling again
        return _compile(schemas, version)


_xmlschemas: dict[Path, object] = {}


def _xmlschema_for(path: Path):
    import xmlschema  # only stewards' tools need it; keep it off the ingestion import path

    with _compile_lock:
        schema = _xmlschemas.get(path)
        if schema is None:
            # allow="local": schema and instance resources from the file system, never a URL
            schema = xmlschema.XMLSchema10(str(path), allow="local", defuse="always")
            _xmlschemas[path] = schema
        return schema


# -- validation ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SchemaError:
    line: int | None
    column: int | None  # None: libxml2 reports none for a tree, and no source was given
    path: str | None  # libxml2's XPath of the offending element in the validated tree
    message: str
    element: str | None  # local name of the offending element
    attribute: str | None = None  # name of the offending attribute, when the error is on one


_SUBJECT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?")
_MISSING_ATTRIBUTE = re.compile(r"The attribute '([^']+)' is required but missing")
_LONG_VALUE = re.compile(r"'([^']{200,})('|$)")
_VALUE_HEAD = 40


def _shorten(message: str) -> str:
    """libxml2 quotes the whole offending value, cut (unclosed) at 64,000 characters of message:
    a bad attachment would fill the log. Long values keep their head and their length."""
    if len(message) < 400:
        return message

    def short(m):
        size = f"{len(m.group(1))} characters" if m.group(2) else "value cut by libxml2"
        return f"'{m.group(1)[:_VALUE_HEAD]}…' ({size})"
    return _LONG_VALUE.sub(short, message)


def _schema_error(e) -> SchemaError:
    message = _shorten(e.message)
    m = _SUBJECT.match(message)
    element, attribute = (m.group(1), m.group(2)) if m else (None, None)
    if attribute is None:
        missing = _MISSING_ATTRIBUTE.search(message)
        attribute = missing.group(1) if missing else None
    return SchemaError(e.line or None, e.column or None, e.path, message, element, attribute)


def validate(tree_or_element, entry: SchemaEntry, source: bytes | None = None) -> list[SchemaError]:
    """Every schema error of the document (or of the element, validated as a root), [] if valid.

    `source`: the bytes the tree was parsed from, unchanged; when given, each error gets the
    line and column where the offending start tag (or attribute) begins."""
    xsd = entry.xsd
    with entry._lock:
        if xsd.validate(tree_or_element):
            return []
        log = xsd.error_log  # a copy, safe to read after the lock
    errors = [_schema_error(e) for e in log]
    if source is not None:
        errors = _locate(errors, tree_or_element, source)
    return errors


def _root_of(tree_or_element):
    if isinstance(tree_or_element, etree._ElementTree):
        return tree_or_element.getroot()
    return tree_or_element


_PREFIX = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]*):(?=[A-Za-z_])")


def offending_element(tree_or_element, error: SchemaError):
    """The element of the validated tree (or element) that `error` is about, or None.

    libxml2's path is rooted at the validated element and may use prefixes declared anywhere
    in the document (not only on the root)."""
    path = error.path
    if not path or not path.startswith("/"):
        return None
    root = _root_of(tree_or_element)
    first, _, rest = path[1:].partition("/")
    expr = f"self::{first}" + (f"/{rest}" if rest else "")
    ns = {p: u for p, u in root.nsmap.items() if p}
    wanted = set(_PREFIX.findall(expr)) - set(ns)
    if wanted:
        for el in root.iter(etree.Element):
            for p, u in el.nsmap.items():
                if p in wanted:
                    ns[p] = u
                    wanted.discard(p)
            if not wanted:
                break
    try:
        found = root.xpath(expr, namespaces=ns)
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _locate(errors: list[SchemaError], validated, source: bytes) -> list[SchemaError]:
    root = _root_of(validated)
    doc_root = root.getroottree().getroot()
    try:
        offsets = positions.start_tag_offsets(source)
    except positions.expat.ExpatError:
        return errors
    index = {el: i for i, el in enumerate(doc_root.iter(etree.Element))}
    encoding = root.getroottree().docinfo.encoding
    out = []
    for err in errors:
        node = offending_element(validated, err)
        i = index.get(node) if node is not None else None
        if i is None or i >= len(offsets):
            out.append(err)
            continue
        offset = offsets[i]
        if err.attribute:
            offset = positions.attribute_offset(source, offset, err.attribute) or offset
        line, column = positions.line_column(source, offset, encoding)
        out.append(SchemaError(line, column, err.path, err.message, err.element, err.attribute))
    return out
