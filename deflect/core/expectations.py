"""Expectation suites as plain data: what each table or view must satisfy, declared where the
table is owned (an adapter for its canonical tables, stewardship for the `reporting` views) and
turned into Great Expectations objects only when run (stewardship/expectations.py)."""
from __future__ import annotations

from dataclasses import dataclass

AGE_RANGE = (0, 120)  # W13 flags under 10 / over 100; outside 0..120 is a data error
PERSON_KEY_WELL_FORMED = "person_key_well_formed"


@dataclass(frozen=True)
class Exp:
    kind: str  # GX expectation class name
    kwargs: dict

    @property
    def columns(self) -> list[str]:
        if "column" in self.kwargs:
            return [self.kwargs["column"]]
        if "column_list" in self.kwargs:
            return list(self.kwargs["column_list"])
        return [self.kwargs[k] for k in ("column_A", "column_B") if k in self.kwargs]


def not_null(*cols: str) -> list[Exp]:
    return [Exp("ExpectColumnValuesToNotBeNull", {"column": c}) for c in cols]


def in_set(col: str, values) -> Exp:
    return Exp("ExpectColumnValuesToBeInSet", {"column": col, "value_set": list(values)})


def matches(col: str, regex: str) -> Exp:
    return Exp("ExpectColumnValuesToMatchRegex", {"column": col, "regex": regex})


def between(col: str, low=None, high=None) -> Exp:
    return Exp(
        "ExpectColumnValuesToBeBetween", {"column": col, "min_value": low, "max_value": high}
    )


def unique(*cols: str) -> Exp:
    if len(cols) == 1:
        return Exp("ExpectColumnValuesToBeUnique", {"column": cols[0]})
    return Exp("ExpectCompoundColumnsToBeUnique", {"column_list": list(cols)})


def at_least(a: str, b: str) -> Exp:
    return Exp(
        "ExpectColumnPairValuesAToBeGreaterThanB", {"column_A": a, "column_B": b, "or_equal": True}
    )


@dataclass(frozen=True)
class Suite:
    name: str
    origin: str  # "canonical" (batch CSV table) or "reporting" (a view)
    table: str
    id_columns: tuple[str, ...]
    expectations: tuple[Exp, ...]
    numeric: tuple[str, ...] = ()
    person_key: bool = False  # replace person_key by person_key_well_formed
    filter_run: bool = False  # only this run's rows (load_run)
    # only the rows this run's refresh inserted or changed (reporting.deflection, by
    # marts.fct_deflection.changed_run_id): the suite costs what the night brings
    changed_only: bool = False
    # what holds over the whole table without being checked row by row, and why (a constraint),
    # shown with the suite's results
    guaranteed: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        cols = list(self.id_columns)
        for x in self.expectations:
            cols += [c for c in x.columns if c not in cols]
        return cols




def person_key_ok() -> list[Exp]:
    """The person key is handed to GX only as a well-formedness flag (Suite.person_key)."""
    return [in_set(PERSON_KEY_WELL_FORMED, [True])]
