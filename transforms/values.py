"""Turning the warehouse's cell values into one internal form, whatever their Python type.

The warehouse hands over plain Python values (datetime.date, int, str or None in object columns),
but frames built by pandas may carry NaN, pd.NA, NaT, Timestamps or ISO strings instead. Inside
transforms dates are pandas datetime64 columns (NaT for null, so comparisons with a null are
False), identities and codes are str or None, and blank text is null (deflection-rules.md §1).
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from deflect.core.dates import CHICAGO


def is_null(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def local_day(value) -> dt.date | None:
    """A date, or the America/Chicago date of a date-time (naive ones are already local)."""
    if is_null(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        value = dt.datetime.fromisoformat(text)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHICAGO)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"not a date: {type(value).__name__}")


def _kind(series: pd.Series) -> str:
    return pd.api.types.infer_dtype(series, skipna=True)


def _per_element_days(series: pd.Series) -> pd.Series:
    days = [local_day(v) for v in series.tolist()]
    return pd.Series(pd.to_datetime(days), index=series.index).astype("datetime64[ns]")


def day_column(series: pd.Series) -> pd.Series:
    """A column of dates / date-times / ISO text as datetime64 days (NaT for null)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert(CHICAGO).dt.tz_localize(None)
        return series.dt.normalize().astype("datetime64[ns]")
    kind = _kind(series)
    if kind == "empty":
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if kind == "date":  # plain datetime.date values (the warehouse's): vectorised
        return pd.to_datetime(series.where(series.notna(), None)).astype("datetime64[ns]")
    if kind == "string":
        text = series.where(series.notna(), None)
        lengths = text.str.len()
        if ((lengths == 10) | lengths.isna()).all():
            return pd.to_datetime(text.where(lengths == 10, None), format="%Y-%m-%d").astype(
                "datetime64[ns]")
    return _per_element_days(series)


def naive_instant(value) -> pd.Timestamp | None:
    """A MEG LastModified (naive local wall-clock), compared as written."""
    if is_null(value):
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    ts = pd.Timestamp(value)
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def instant_column(series: pd.Series) -> pd.Series:
    kind = _kind(series)
    if kind in ("string", "datetime", "datetime64", "empty"):
        try:
            out = pd.to_datetime(series.where(series.notna(), None), format="ISO8601")
            if getattr(out.dt, "tz", None) is None:
                return out.astype("datetime64[ns]")
        except (ValueError, TypeError):
            pass
    return pd.Series(
        pd.to_datetime([naive_instant(v) for v in series.tolist()]), index=series.index
    ).astype("datetime64[ns]")


def text(value) -> str | None:
    """Text or None; blank is null, never ''."""
    if is_null(value):
        return None
    value = value if isinstance(value, str) else str(value)
    return value if value.strip() else None


def text_column(series: pd.Series) -> pd.Series:
    if _kind(series) in ("string", "empty"):  # vectorised: null and '' become None
        arr = series.to_numpy(dtype=object, copy=True)
        arr[pd.isna(arr) | (arr == "")] = None
        return pd.Series(arr, index=series.index, dtype=object)
    return pd.Series([text(v) for v in series.tolist()], index=series.index, dtype=object)


def ident(value) -> str | None:
    """A positive-integer identity (`seq`, `SubjectId`) in its canonical spelling: '01' -> '1'."""
    if is_null(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    value = str(value).strip()
    return str(int(value)) if value.isdigit() else (value or None)


def ident_column(series: pd.Series) -> pd.Series:
    # identities repeat a handful of values ('1', '2', ...): spell each distinct one once
    arr = series.to_numpy(dtype=object)
    null = pd.isna(arr)
    spelled = {v: ident(v) for v in pd.unique(arr[~null])}
    out = np.array([spelled[v] for v in arr[~null]] if spelled else [], dtype=object)
    full = np.full(len(arr), None, dtype=object)
    full[~null] = out
    return pd.Series(full, index=series.index, dtype=object)


def int_column(series: pd.Series) -> pd.Series:
    """Whole numbers as nullable Int64."""
    values = series.astype(object).where(series.notna(), None)
    return pd.to_numeric(values, errors="coerce").astype("Int64")


def out_dates(series: pd.Series) -> np.ndarray:
    """datetime64 days back to datetime.date or None (what the warehouse writes)."""
    dates = series.dt.date.to_numpy(dtype=object, copy=True)
    dates[series.isna().to_numpy()] = None
    return dates


def out_values(series: pd.Series) -> np.ndarray:
    """Any column back to plain Python values with None for null."""
    arr = series.astype(object).to_numpy(dtype=object, copy=True)
    null = pd.isna(arr)
    arr[null] = None
    if series.dtype.kind in "iub" or isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        arr[~null] = [v.item() if hasattr(v, "item") else v for v in arr[~null]]
    return arr
