"""One deflection, counted once (deflection-rules.md §2): linking and the deflection identity."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def _unique_pairs(t: pd.DataFrame, m: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """(t_i, m_i) of the keys held by exactly one row on each side."""
    t = t[~t.duplicated(on, keep=False)]
    m = m[~m.duplicated(on, keep=False)]
    return t.merge(m, on=on, how="inner")[["t_i", "m_i"]]


def link(tracs: pd.DataFrame, meg: pd.DataFrame) -> pd.DataFrame:
    """Pair the counted deflections of both sources; one row per deflection.

    `tracs` and `meg` need `report` and `key` (person key). The result has `t_i` and `m_i` (row
    positions in each frame, -1 for none) and `by_report` (linked in pass 2, W10).

    Pass 1 links (report R, key) when exactly one TraCS CD individual and exactly one MEG
    deflection hold it (null keys and null reports never match). Pass 2 then counts, per
    report, only what pass 1 left unlinked: exactly one on each side links them.
    """
    t = pd.DataFrame({"t_i": np.arange(len(tracs)), "report": tracs["report"].to_numpy(),
                      "key": tracs["key"].to_numpy()})
    m = pd.DataFrame({"m_i": np.arange(len(meg)), "report": meg["report"].to_numpy(),
                      "key": meg["key"].to_numpy()})
    t = t[t["report"].notna()]
    m = m[m["report"].notna()]

    by_key = _unique_pairs(t[t["key"].notna()], m[m["key"].notna()], ["report", "key"])
    t_left = t[~t["t_i"].isin(by_key["t_i"])]
    m_left = m[~m["m_i"].isin(by_key["m_i"])]
    by_report = _unique_pairs(t_left, m_left, ["report"])

    linked = pd.concat([by_key.assign(by_report=False), by_report.assign(by_report=True)])
    t_only = np.setdiff1d(np.arange(len(tracs)), linked["t_i"].to_numpy())
    m_only = np.setdiff1d(np.arange(len(meg)), linked["m_i"].to_numpy())
    out = pd.concat([
        linked,
        pd.DataFrame({"t_i": t_only, "m_i": -1, "by_report": False}),
        pd.DataFrame({"t_i": -1, "m_i": m_only, "by_report": False}),
    ], ignore_index=True)
    return out.astype({"t_i": "int64", "m_i": "int64", "by_report": bool})


def deflection_id(members: list[str]) -> str:
    """docs/architecture.md: `D` + 24 hex digits of SHA-256 over the sorted member identities
    (`TRACS:<formNumber>:<seq>`, `MEG:<Unit>/<CaseNumber>:<SubjectId>`) joined by newlines."""
    digest = hashlib.sha256("\n".join(sorted(members)).encode("utf-8")).hexdigest()
    return "D" + digest[:24]
