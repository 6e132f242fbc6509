"""The source kinds this pipeline reads: one line per kind.

A new kind is a new folder under `adapters/` (its adapter, codes, rules, tables, expectations)
and one line below; nothing else in the project names a kind. The top layer (`deflect.pipeline`)
looks adapters up here and hands them to ingestion, the warehouse and stewardship.
"""
from __future__ import annotations

from adapters.meg_reports.adapter import MegAdapter
from adapters.tracs.adapter import TracsAdapter
from deflect.core.canonical import table_columns
from deflect.core.fields import FieldClasses, merge
from ingestion.adapter import Adapter

ADAPTERS: dict[str, Adapter] = {a.kind: a for a in (
    TracsAdapter(),
    MegAdapter(),
)}


class UnknownKind(ValueError):
    pass


def adapter_for(kind: str) -> Adapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise UnknownKind(f"unknown source kind {kind!r} (known: {', '.join(ADAPTERS)})") from None


def kinds() -> tuple[str, ...]:
    return tuple(ADAPTERS)


def staging_tables() -> tuple:
    """The `SourceTables` of every kind, for the warehouse."""
    return tuple(a.tables for a in ADAPTERS.values())


def canonical_suites() -> tuple:
    """Every kind's expectation suites on its canonical tables."""
    return tuple(s for a in ADAPTERS.values() for s in a.suites)


def pathway_codes() -> dict[str, dict[str, str]]:
    """kind -> {source code: pathway}, for dim_pathway."""
    return {kind: dict(a.pathway_codes) for kind, a in ADAPTERS.items()}


def staging_columns() -> dict[str, tuple[str, ...]]:
    """Staging table name -> its canonical columns, every kind."""
    return table_columns(staging_tables())


def schemas_by_namespace() -> dict:
    """namespace -> the `SchemaSet` of the kind whose documents use it."""
    return {a.namespace: a.schemas for a in ADAPTERS.values()}


def field_classes(kind: str | None = None) -> FieldClasses:
    """Which fields hold personal data: one kind's interface, or every kind's merged (a name
    personal in any interface is personal). What masking is handed (stewardship.masking)."""
    if kind is not None:
        return adapter_for(kind).fields
    return merge(*(a.fields for a in ADAPTERS.values()))
