"""Options of the synthetic export generator (`deflect generate`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PERSON_KEY_ENV = "DEFLECT_PERSON_KEY"


@dataclass(frozen=True)
class GeneratorConfig:
    start: dt.date
    end: dt.date
    seed: int = 1
    forms_per_day: int = 200  # TraCS FieldReports first exported per night
    attachment_kb: int = 64  # mean size of an attachment (decoded)
    large_attachments: int = 0  # attachments of nearly 16 MB, spread over the range
    defect_rate: float = 0.02  # share of defective files and records; 0 = clean
    gzip_share: float = 0.2  # share of TraCS files written as .xml.gz
    as_of: dt.date | None = None  # default: end + 1 day
    warmup_days: int = 100  # deflections referred before `start` (only their later activity is exported)
    deflection_share: float = 0.04  # FieldReports with a criminal-deflection disposition
    anomaly_share: float = 0.25  # deflections with a planted data-entry anomaly (W-flags)
    pending_at_end: bool = True  # leave a few files incomplete after the last night
    person_key_secret_env: str = PERSON_KEY_ENV

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("end is before start")
        if not 0 <= self.defect_rate <= 1 or not 0 <= self.gzip_share <= 1:
            raise ValueError("defect_rate and gzip_share are shares between 0 and 1")
        if self.forms_per_day < 1:
            raise ValueError("forms_per_day must be at least 1")

    @property
    def effective_as_of(self) -> dt.date:
        return self.as_of or (self.end + dt.timedelta(days=1))

    def describe(self) -> dict:
        return {
            "seed": self.seed, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "forms_per_day": self.forms_per_day, "attachment_kb": self.attachment_kb,
            "large_attachments": self.large_attachments, "defect_rate": self.defect_rate,
            "gzip_share": self.gzip_share, "warmup_days": self.warmup_days,
            "deflection_share": self.deflection_share, "anomaly_share": self.anomaly_share,
            "pending_at_end": self.pending_at_end,
        }
