"""The data dictionary documents every reporting column, and its example SQL runs on both
backends."""
import datetime as dt
import re
from pathlib import Path

from tests.warehouse.helpers import STAGING, merge, tracs_form, write_batch
from tests.warehouse.test_migrate import CONTRACT
from tests.warehouse.test_refresh import fake_build
from warehouse import load_batch, refresh

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def sql_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.DOTALL)
    return [s.strip().rstrip(";") for b in blocks for s in b.split(";\n") if s.strip()]


def test_every_contract_column_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for view, columns in CONTRACT.items():
        heading = re.search(rf"^#+ `{re.escape(view)}`.*$", text, flags=re.MULTILINE)
        assert heading, view
        body = re.split(r"^#+ ", text[heading.end():], maxsplit=1, flags=re.MULTILINE)[0]
        for column, _ in columns:
            assert f"`{column}`" in body, f"{view}.{column}"


def test_example_sql_runs(wh, tmp_path):
    rows = merge(tracs_form("FR-26-0000001", 1), tracs_form("FR-26-0000002", 1, line=40))
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=dt.date(2026, 11, 1), build=fake_build)
    blocks = sql_blocks()
    assert len(blocks) >= 5
    for sql in blocks:
        wh.query(sql)
