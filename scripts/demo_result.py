"""Print what the demo produced: the run's figures (as `deflect summary` does), whether they
equal the generator's ground truth, and where the validation report is.

    python scripts/demo_result.py CONFIG_YAML MANIFEST_JSON
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from deflect import pipeline
from deflect.cli import format_summary
from deflect.configuration import load_config
from deflect.core.runs import latest_run_id
from deflect.summary import ISP_ORIGINS


def counts_by_unit_quarter(rows) -> dict:
    out = defaultdict(int)
    for r in rows:
        out[(r["approving_unit_code"], r["referral_quarter"])] += int(r["deflections"])
    return dict(out)


def isp_counts_by_unit_quarter(deflections) -> dict:
    """Directive III.E.3: ISP-originated (DOP/DCI) deflections by approving unit and quarter."""
    out = defaultdict(int)
    for r in deflections:
        if r["originating_agency_type"] in ISP_ORIGINS:
            out[(r["approving_unit_code"], r["referral_quarter"])] += 1
    return dict(out)


def followup_key(rows) -> dict:
    cols = ("referrals", "due", "evaluated_within_90_days", "overdue")
    return {(r["approving_unit_code"], r["referral_quarter"]): tuple(int(r[c]) for c in cols)
            for r in rows}


def main(argv: list[str]) -> int:
    config = load_config(argv[0])
    manifest = json.loads(Path(argv[1]).read_text())
    run_id = latest_run_id(config)
    result = pipeline.summary(config, run_id)
    report = Path(config.report_dir) / run_id / "index.html"
    if report.exists():
        result["report"] = str(report)
    print(format_summary(result))
    truth = manifest["reporting"]
    same_counts = counts_by_unit_quarter(result["deflection_counts"]) == \
        counts_by_unit_quarter(truth["deflection_counts"])
    same_isp = counts_by_unit_quarter(result["isp_deflection_counts"]) == \
        isp_counts_by_unit_quarter(truth["deflection"])
    same_followup = followup_key(result["followup_compliance"]) == \
        followup_key(truth["followup_compliance"])
    print()
    yes = {True: "yes", False: "NO"}
    print(f"Counts by unit and quarter, every origin, equal the ground truth: {yes[same_counts]}")
    print(f"III.E.3 counts (ISP-originated) equal the ground truth:          {yes[same_isp]}")
    print(f"Follow-up figures equal the ground truth:                        {yes[same_followup]}")
    if not report.exists():
        print(f"Validation report: not written ({report} is missing)")
    ok = same_counts and same_isp and same_followup
    return 0 if ok and not result["failed_sources"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
