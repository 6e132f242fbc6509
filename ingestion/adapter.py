"""What the shared core asks of a source-specific adapter (adapters/tracs, adapters/meg_reports).

An adapter describes the document (namespace, root, containers, record element), the drop (data
file names, completion protocol, sidecar), and the source-specific parts of validation and
extraction (F05, the B rules, canonical rows).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from deflect.config import SourceConfig
from ingestion.findings import Finding
from ingestion.transport import RemoteEntry


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
    kind: str
    namespace: str
    root: str  # local name of the root element
    containers: tuple[str, ...] = ()  # local names between the root and the records
    record: str  # local name of the record element
    version_attribute: str
    name_pattern: re.Pattern

    # -- drop ---------------------------------------------------------------------------------
    def is_data_name(self, name: str) -> bool:
        return bool(self.name_pattern.fullmatch(name))

    def is_complete(self, entry: RemoteEntry, listing: dict[str, RemoteEntry]) -> bool:
        raise NotImplementedError

    def sidecar_name(self, name: str) -> str | None:
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


def get_adapter(source: SourceConfig) -> Adapter:
    if source.kind == "tracs":
        from adapters.tracs import TracsAdapter
        return TracsAdapter()
    if source.kind == "meg":
        from adapters.meg_reports import MegAdapter
        return MegAdapter()
    raise ValueError(f"unknown source kind {source.kind!r}")


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

