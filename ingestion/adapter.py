"""What the shared core asks of a source kind's adapter (adapters/tracs, adapters/meg_reports).

An adapter is everything that differs from one source kind to another, in one folder: the
configuration it needs, the drop (data file names, completion protocol and how to mark a file
complete, checksum announcements), the document (schemas, root, containers, record element),
the source-specific parts of validation and extraction (F05, the B rules, canonical rows), the
staging tables those rows go to, and the expectations on them. Ingestion is handed an adapter
(`adapters.registry.adapter_for`); it never imports one.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from deflect.core.canonical import SourceTables
from deflect.core.config import SourceConfig
from deflect.core.fields import NOTHING_PUBLIC, FieldClasses
from ingestion.findings import Finding
from ingestion.transport import RemoteEntry
from schemas.registry import SchemaSet


@dataclass
class FileContext:
    """What extraction of one file knows besides the record itself."""

    source: SourceConfig
    file_name: str
    file_sha256: str
    root_attrib: dict[str, str]
    secret: bytes
    extra: dict = field(default_factory=dict)  # adapter-specific values derived from the root

    def lineage(self, line: int | None) -> dict:
        return {"source": self.source.name, "file_name": self.file_name,
                "file_sha256": self.file_sha256, "line": line}


class Adapter:
    kind: str  # the `kind` of a configured source
    schemas: SchemaSet  # namespace, version attribute, one XML Schema per version
    root: str  # local name of the root element
    containers: tuple[str, ...] = ()  # local names between the root and the records
    record: str  # local name of the record element
    name_pattern: re.Pattern
    tables: SourceTables  # the canonical tables extract() writes to
    suites: tuple = ()  # deflect.core.expectations.Suite over those tables
    pathway_codes: Mapping[str, str] = MappingProxyType({})  # source code -> pathway
    # which fields hold personal data: a finding quotes only values of fields that do not
    fields: FieldClasses = NOTHING_PUBLIC

    @property
    def namespace(self) -> str:
        return self.schemas.namespace

    @property
    def version_attribute(self) -> str:
        return self.schemas.version_attribute

    # -- configuration ------------------------------------------------------------------------
    def check_source(self, source: SourceConfig) -> list[tuple[str, str]]:
        """What this kind needs of a configured source: (key, problem) pairs, [] when fine."""
        return []

    # -- drop ---------------------------------------------------------------------------------
    def is_data_name(self, name: str) -> bool:
        return bool(self.name_pattern.fullmatch(name))

    def is_complete(self, entry: RemoteEntry, listing: dict[str, RemoteEntry]) -> bool:
        raise NotImplementedError

    def completion_marker(self, name: str) -> str | None:
        """The file whose appearance says `name` is complete (its listing identity, mtime and
        size, tells one delivery from the next), None when the protocol has none."""
        return None

    def mark_complete(self, directory: Path, name: str) -> None:
        """Write beside `directory/name` what the producer writes once the file is complete
        (a file:// drop staged for replay or backfill passes the same completion rules)."""
        raise NotImplementedError

    def sidecar_name(self, name: str) -> str | None:
        """The file that announces the data file's SHA-256, when the protocol has one."""
        return None

    def announced_sha256(self, name: str, read_small: Callable[[str], bytes | None]) -> str | None:
        """The SHA-256 the producer announces for `name` (read with `read_small`), None when
        missing or malformed. Only called when `sidecar_name(name)` is not None."""
        return None

    # -- document -----------------------------------------------------------------------------
    def qname(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"

    def file_context_extra(self, root_attrib: dict[str, str]) -> dict:
        return {}

    def check_file_name(self, file_name: str, root_attrib: dict[str, str],
                        source: SourceConfig) -> list[Finding]:
        """F05."""
        raise NotImplementedError

    def record_id(self, attrib, root_attrib: dict[str, str]) -> str | None:
        raise NotImplementedError

    def record_version(self, record) -> str | None:
        raise NotImplementedError

    def record_rules(self, record, ctx: FileContext) -> list[Finding]:
        """The B rules that look at one record alone."""
        raise NotImplementedError

    def extract(self, record, ctx: FileContext, record_id: str,
                record_sha256: str) -> Iterator[tuple[str, dict]]:
        """Canonical rows (table, row) of one valid record."""
        raise NotImplementedError


# -- small value helpers shared by the adapters ----------------------------------------------------

def text(el, local: str, ns: str) -> str | None:
    """Text of a child element; blank (empty) -> None."""
    child = el.find(f"{{{ns}}}{local}")
    if child is None or not child.text:
        return None
    return child.text


def child_texts(el, ns: str) -> dict[str, str | None]:
    """Local name -> text of every child element, in one pass (blank -> None)."""
    cut = len(ns) + 2
    return {c.tag[cut:]: (c.text or None) for c in el if isinstance(c.tag, str)}


def to_date(value: str | None) -> dt.date | None:
    return None if not value else dt.date.fromisoformat(value[:10])


def iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()

