"""The incremental refresh against a whole one, over random sequences of nights.

`test_incremental_refresh.py` walks the cases one can think of; this walks the ones one does
not. Each seed draws a small world (sixteen forms, sixteen cases and sixteen report numbers,
so that a night's scope is a part of the warehouse; three people, two approving units) and a
sequence of nights: new versions of forms and cases that move between report numbers and
people, voids, deflections that appear and go, evaluations, referrals a day or two short of a
follow-up threshold, the as-of date moving forward (mostly by a day, sometimes by months,
sometimes not at all, now and then backward).
After every night the incremental result must equal a whole recomputation over the same
warehouse (`refresh_both`). A failure names the seed and the night, and replays exactly.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.warehouse.helpers import meg_case, merge, tracs_form
from tests.warehouse.test_incremental_refresh import _load, refresh_both

SEEDS = range(12)
NIGHTS = 9
REPORTS = tuple(f"R{i}" for i in range(16))
PEOPLE = ("k" * 64, "m" * 64, "n" * 64)
UNITS = ("SIEG", "DMEG")
FORMS = tuple(f"FR-{i}" for i in range(16))
CASES = tuple(f"SIEG/C-{i}" for i in range(16))
# days after a referral at which a row can change with nothing loaded: W19 (8), W16 and W20
# (30, 31), due (90), overdue (91), W15 (93)
THRESHOLDS = (8, 30, 31, 90, 91, 93)


def _day(rng: random.Random, base: dt.date, spread: int) -> str:
    return (base + dt.timedelta(days=rng.randint(0, spread))).isoformat()


class World:
    """What has been sent so far: each record's last version, so that every new one is newer."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.versions = {f: 0 for f in FORMS}
        self.modified = {c: dt.datetime(2026, 10, 1, 8) for c in CASES}
        self.line = 10
        self.as_of = dt.date(2026, 10, 20)

    def _next_line(self) -> int:
        self.line += 20
        return self.line

    def form(self) -> dict:
        rng = self.rng
        rid = rng.choice(FORMS)
        self.versions[rid] += 1
        people = [(str(i + 1), rng.choice(("CD", "AR", "WA")), rng.choice(PEOPLE))
                  for i in range(rng.randint(1, 2))]
        deflections = [(seq, rng.choice(("SELF_REFERRAL", "OFFICER_REFERRAL")), rng.choice(UNITS))
                       for seq, _, _ in people if rng.random() < 0.7]
        rows = tracs_form(rid, self.versions[rid], report=rng.choice(REPORTS),
                          status="Voided" if rng.random() < 0.12 else "Transmitted",
                          line=self._next_line(), people=people, deflections=deflections)
        referral = self._referral()
        for row in rows["stg_tracs__deflection"]:
            row.update(referral_date=referral, approval_date=referral)
        return rows

    def case(self) -> dict:
        rng = self.rng
        rid = rng.choice(CASES)
        self.modified[rid] += dt.timedelta(hours=rng.randint(1, 200))
        subjects = tuple(str(i + 1) for i in range(rng.randint(1, 2)))
        referral = self._referral()
        evaluations = tuple((s, _day(rng, dt.date.fromisoformat(referral), 100),
                             rng.choice(("ENG", "TRT", "CMP", "UNS", "NOC")))
                            for s in subjects if rng.random() < 0.4)
        rows = meg_case(rid, self.modified[rid].isoformat(timespec="seconds"),
                        status="VOID" if rng.random() < 0.1 else rng.choice(("OPEN", "CLOSED")),
                        line=self._next_line(), subjects=subjects, evaluations=evaluations)
        rows["stg_meg__case"][0]["tracs_report_number"] = rng.choice(REPORTS)
        for row in rows["stg_meg__subject"]:
            row["person_key"] = rng.choice(PEOPLE)
        for row in rows["stg_meg__deflection"]:
            row.update(referral_date=referral, approval_date=referral,
                       approving_unit=rng.choice(UNITS),
                       outcome=rng.choice(("PENDING", "PENDING", "SUCCESSFUL", "UNSUCCESSFUL")))
        if rng.random() < 0.3:  # a case whose deflection is gone in this version
            rows["stg_meg__deflection"] = []
            rows["stg_meg__evaluation"] = []
        return rows

    def _referral(self) -> str:
        """A referral a day or two short of a threshold before the as-of date, so that the
        nights that follow cross it one day at a time (or some days before, now and then)."""
        if self.rng.random() < 0.3:
            return _day(self.rng, self.as_of - dt.timedelta(days=100), 100)
        days = self.rng.choice(THRESHOLDS) - self.rng.randint(0, 2)
        return (self.as_of - dt.timedelta(days=days)).isoformat()

    def move_as_of(self) -> dt.date:
        rng = self.rng
        step = rng.choice((0, 1, 1, 1, 1, 2, 7, 30, 89))
        if rng.random() < 0.1:
            step = -rng.randint(1, 20)  # backward: refreshes whole
        self.as_of += dt.timedelta(days=step)
        return self.as_of


@pytest.mark.parametrize("seed", SEEDS)
def test_random_nights_refresh_incrementally_to_the_whole_result(wh, tmp_path, seed):
    world = World(seed)
    for night in range(NIGHTS):
        rng = world.rng
        forms = [world.form() for _ in range(rng.randint(0, 4 if night else 16))]
        cases = [world.case() for _ in range(rng.randint(0, 4 if night else 16))]
        if forms:
            _load(wh, tmp_path, f"n{night}-t", "tracs", merge(*forms))
        if cases:
            _load(wh, tmp_path, f"n{night}-m", "meg", merge(*cases))
        as_of = world.move_as_of()
        try:
            refresh_both(wh, f"run-{night}", as_of)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, night {night} (as of {as_of}): the incremental "
                                 "refresh differs from the whole one") from exc
