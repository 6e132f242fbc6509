"""The text columns an expectation suite checks are prepared as the per-value conversion gives
them, whatever the column's dtype (the canonical CSVs come as pandas' string dtype)."""
import io

import pandas as pd
import pytest

from stewardship import data
from stewardship.expectations import _text_or_none


def _per_value(col: pd.Series) -> pd.Series:
    return col.map(lambda v: None if data.missing(v) else str(v)).astype(object)


def _cells(col: pd.Series) -> list:
    return [("missing", type(v).__name__) if data.missing(v) else (v, type(v).__name__)
            for v in col.tolist()]


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_text_columns_are_converted_as_value_by_value(dtype):
    col = pd.Series(["CD", None, "", "ünï, \"q\"", float("nan"), "0"], dtype=dtype)
    got, expected = _text_or_none(col), _per_value(col)
    assert got.dtype == expected.dtype == object
    assert _cells(got) == _cells(expected)


def test_a_canonical_csv_column_is_converted_as_value_by_value():
    csv = "a,b,c\nx,1,\n,2,y\nz,,\n"
    frame = pd.read_csv(io.StringIO(csv), dtype=str, keep_default_na=False, na_values=[""])
    for c in frame:
        assert _cells(_text_or_none(frame[c])) == _cells(_per_value(frame[c]))
    mixed = pd.Series([1, None, 2.5, pd.Timestamp("2026-01-02"), "t"], dtype=object)
    assert _cells(_text_or_none(mixed)) == _cells(_per_value(mixed))
    assert _text_or_none(mixed).tolist()[0] == "1"
