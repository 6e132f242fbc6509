"""The defect catalogue of deflection-rules.md §5 (F01–F08, S01, B01–B05) and the planner that
decides which file or record gets one. Every defect is recorded in the manifest."""
from __future__ import annotations

import random

FILE_CODES = {
    "F01": "not well-formed XML (truncated) or an encoding outside UTF-8/ISO-8859-1",
    "F02": "wrong root element or namespace",
    "F03": "unsupported interface version",
    "F04": "checksum does not match the sidecar, or a malformed sidecar",
    "F05": "file name and document disagree (ORI/unit or date)",
    "F06": "DOCTYPE with an entity declaration",
    "F07": "gzip file that cannot be decompressed (truncated)",
    "F08": "schema error on the root element's attributes",
}
RECORD_CODES = {
    "S01": "schema error inside a FieldReport (or its Contact's attributes) or a Case",
    "B01": "disposition CD without a deflection element",
    "B02": "deflection element with a disposition other than CD",
    "B03": "MEG Deflection/@SubjectId not among the case's subjects",
    "B04": "duplicate seq/SubjectId within a record, or the same form/case twice in one file",
    "B05": "MEG CaseNumber does not start with the file's Unit and '-'",
}
ELIGIBLE = {
    ("file", "tracs"): ("F01", "F02", "F03", "F04", "F05", "F06", "F07", "F08"),
    ("file", "meg"): ("F01", "F02", "F03", "F05", "F06", "F08"),
    ("record", "tracs"): ("S01", "B01", "B02", "B04"),
    ("record", "meg"): ("S01", "B03", "B04", "B05"),
}
TRACS_ONLY_FILE_CODES = ("F04", "F07")


class DefectPlanner:
    """Decides defects at a share `rate`; codes not yet produced come first, so a short run with
    any positive rate covers the whole catalogue. rate 0 gives a clean drop."""

    def __init__(self, rng: random.Random, rate: float):
        self.rng = rng
        self.rate = rate
        self.todo = list(FILE_CODES) + list(RECORD_CODES)
        self.counts: dict[str, int] = {}

    def _choose(self, level: str, kind: str, p: float) -> str | None:
        if self.rate <= 0 or self.rng.random() >= p:
            return None
        eligible = ELIGIBLE[(level, kind)]
        todo = [c for c in self.todo if c in eligible]
        code = todo[0] if todo else self.rng.choice(eligible)
        if code in self.todo:
            self.todo.remove(code)
        self.counts[code] = self.counts.get(code, 0) + 1
        return code

    def file_code(self, kind: str) -> str | None:
        p = self.rate
        if kind == "tracs" and any(c in self.todo for c in TRACS_ONLY_FILE_CODES):
            p = max(p, 0.3)  # few TraCS files per run: make sure F04/F07 appear early
        return self._choose("file", kind, p)

    def record_code(self, kind: str) -> str | None:
        return self._choose("record", kind, self.rate)

    def variant(self, *choices: str) -> str:
        return self.rng.choice(choices)
