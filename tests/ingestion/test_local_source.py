"""file:// sources: the same listing, completion and failure semantics as SFTP."""
from __future__ import annotations

import os

from deflect.core.canonical import LedgerSnapshot
from devtools.ingest import ingest_source
from ingestion.transport import LocalDrop
from tests.ingestion.helpers import (
    SECRET,
    TRACS_NAME,
    local_source,
    make_config,
    put_tracs,
    tracs_doc,
)


def test_local_drop_lists_plain_files_only(tmp_path):
    d = tmp_path / "drop"
    put_tracs(d, TRACS_NAME, tracs_doc())
    (d / "sub").mkdir()
    os.symlink("/etc/passwd", d / "TRACS_IL0849800_20261125T013004_0002.xml")
    with LocalDrop(local_source(d)) as drop:
        assert sorted(e.name for e in drop.list()) == [TRACS_NAME, TRACS_NAME + ".sha256"]


def test_missing_directory_fails_that_source_only(tmp_path):
    src = local_source(tmp_path / "drop")
    os.rmdir(tmp_path / "drop")
    r = ingest_source(src, config=make_config(tmp_path, src), ledger=LedgerSnapshot(),
                      run_id="r", batch_dir=tmp_path / "b", secret=SECRET)
    assert r.status == "failed" and "not a directory" in r.error


def test_batch_directory_is_replaced_whole_on_a_rerun(tmp_path):
    src = local_source(tmp_path / "drop")
    put_tracs(tmp_path / "drop", TRACS_NAME, tracs_doc())
    for _ in range(2):
        r = ingest_source(src, config=make_config(tmp_path, src), ledger=LedgerSnapshot(),
                          run_id="r", batch_dir=tmp_path / "work" / "b", secret=SECRET)
        assert r.status == "ok"
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["b"]  # no temp leftovers
    assert not (tmp_path / "work" / "b" / ".spool").exists()
