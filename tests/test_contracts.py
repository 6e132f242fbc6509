"""The contracts between layers hold: what the rules read is what the adapters stage, and what
the adapters declare is complete."""
from __future__ import annotations

import re

from adapters.registry import ADAPTERS, staging_columns
from deflect.core.canonical import LINEAGE
from deflect.core.vocab import PATHWAYS
from transforms.current import READS


def test_the_rules_read_only_columns_the_adapters_stage():
    columns = staging_columns()
    for attr, (table, reads) in READS.items():
        assert table in columns, (attr, table)
        assert set(reads) <= set(columns[table]), (attr, sorted(set(reads) - set(columns[table])))


def test_every_kind_declares_what_it_owns():
    for kind, adapter in ADAPTERS.items():
        assert adapter.kind == kind == adapter.tables.kind == adapter.schemas.kind
        for table in adapter.tables.tables:
            assert re.fullmatch(rf"stg_{kind}__[a-z_]+", table.name), table.name
            assert table.columns[: len(LINEAGE)] == LINEAGE, table.name
            assert {"record_id", adapter.tables.version_column} <= set(table.columns)
            assert set(table.types) <= set(table.columns), table.name
        assert {s.table for s in adapter.suites} <= {t.name for t in adapter.tables.tables}
        assert all(p.is_file() for _, p in adapter.schemas.files)
        assert set(adapter.pathway_codes.values()) <= set(PATHWAYS)


def test_kind_tables_do_not_overlap():
    names = [t.name for a in ADAPTERS.values() for t in a.tables.tables]
    assert len(names) == len(set(names))
