"""Which values of a published table are suppressed, read the same way by the files and the
summary page: a table of one measure hides a suppressed row's value; a table of several
(the statutory measures) names the hidden ones of each row in `suppressed_measures`."""
from __future__ import annotations

import pandas as pd

from publication.model import PublishedTable

SUPPRESSED_MEASURES = "suppressed_measures"


def missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def hidden_measures(table: PublishedTable) -> list[set[str]]:
    """Per row of the table's frame, the measures that are suppressed."""
    frame = table.frame
    if SUPPRESSED_MEASURES in frame.columns:
        return [set() if missing(v) else set(filter(None, str(v).split(",")))
                for v in frame[SUPPRESSED_MEASURES]]
    return [set(table.measures) if bool(s) else set() for s in frame["suppressed"]]
