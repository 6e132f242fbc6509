"""Planted data-entry anomalies: each makes one deflection-level rule (W-flag) apply. The flags
themselves are concluded by truth.py from the records, never copied from this plan."""
from __future__ import annotations

import random

# anomaly -> the flag it is meant to provoke (for the README and the coverage cycle)
TRACS_ANOMALIES = {
    "no_approval": "W01",        # TraCS approval blank, no MEG approval
    "unknown_unit": "W02",       # TraCS names a unit that is not in the reference
    "late_approval": "W03",      # approval dated after the referral
    "referral_before": "W04",    # referral before the occurrence
    "op_abeyance": "W05",        # officer prevention with charges held in abeyance
    "oi_blank": "W06",           # officer intervention, abeyance not recorded
    "eval_before": "W07",        # MEG evaluation dated before the referral
    "county_outside": "W08",     # county outside the approving unit's counties
    "unit_differs": "W09",       # TraCS and MEG name different approving units
    "key_differs": "W10",        # MEG subject's name/birth date differ from TraCS
    "report_typo": "W11",        # MEG case names a report number that does not exist
    "age": "W13",                # implausible birth date
    "future_contact": "W14",     # case-manager contact dated after the export
    "future_eval": "W14",        # evaluation dated after the export
    "slow_followup": "W15",      # first evaluation more than 92 days after referral
    "unsuccessful_no_prosecutor": "W16",
    "evidence_held": "W17",      # seized item still held after a final outcome
    "evidence_retained": "W17",  # ... and the MEG records its disposal with method RETAINED
    "role_misfit": "W18",        # a MEG's commander or a task force's director approves
    "blank_role": "W18",         # TraCS approver role blank, and the MEG record has no approval
    "late_contact": "W19",       # case manager contacted 8 to 12 days after the referral
    "no_contact": "W19",         # no case-manager contact date in either record
    "never_reported": "W20",     # the approving unit never enters the deflection in its program
}
MEG_ANOMALIES = {
    "no_approval_megtf": "W12",
    "no_approval_local": "W01",
    "unknown_unit": "W02",
    "county_outside": "W08",
    "age": "W13",
    "eval_before": "W07",
    "future_eval": "W14",
    "slow_followup": "W15",
    "unsuccessful_no_prosecutor": "W16",
    "role_misfit": "W18",        # approved by a role that does not fit the unit type
    "late_contact": "W19",       # backlog entry: case manager contacted 8 or more days late
}


class AnomalyPlanner:
    """Chooses at most one anomaly per deflection: every kind once first (so a short run covers
    each flag), then at random with probability `share`."""

    def __init__(self, rng: random.Random, share: float):
        self.rng = rng
        self.share = share
        def order(names):
            return [a for a in self.NEEDS_TIME if a in names] + [a for a in names if a not in self.NEEDS_TIME]

        self.todo = {"tracs": order(list(TRACS_ANOMALIES)) * 2, "meg": order(list(MEG_ANOMALIES)) * 2}

    # anomalies whose flag needs weeks of follow-up to show are planted first
    NEEDS_TIME = ("unsuccessful_no_prosecutor", "slow_followup", "evidence_held", "future_eval",
                  "evidence_retained", "never_reported")

    def pick(self, kind: str, allowed=None) -> str | None:
        if self.share <= 0:
            return None
        catalogue = TRACS_ANOMALIES if kind == "tracs" else MEG_ANOMALIES
        todo = [a for a in self.todo[kind] if allowed is None or a in allowed]
        if todo and self.rng.random() < 0.8:
            choice = todo[0]
            self.todo[kind].remove(choice)
            return choice
        if self.rng.random() < self.share:
            names = [a for a in catalogue if allowed is None or a in allowed]
            return self.rng.choice(names) if names else None
        return None
