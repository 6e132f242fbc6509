"""The figures a person wants after a run, from the run's files and the warehouse: per-source
outcome, deflections by approving unit and quarter (every origin, and the ISP-originated ones that
directive III.E.3 counts), follow-up; and the one screen that shows them (`deflect run`,
`deflect summary`, `deflect backfill`, the DAGs' logs)."""
from __future__ import annotations

import math

from deflect.core.config import Config
from deflect.core.runs import read_json as _read_json
from deflect.core.runs import run_dir, run_info
from deflect.core.runs import write_json as _write_json

# directive III.E.3 counts DOP and DCI deflections by the unit that approved them;
# reporting.deflection_counts counts every origin
ISP_ORIGINS = ("ISP_DOP", "ISP_DCI")


def summary(config: Config, run_id: str, night: dict | None = None) -> dict:
    """The figures a person wants after a run: per-source outcome, deflections by unit and
    quarter (every origin, and ISP-originated for III.E.3), follow-up. `night`: the night's
    verdict and entry counts when the caller has them (`deflect run`, from the report it just
    wrote); otherwise derived here."""
    from warehouse import connect

    rdir = run_dir(config, run_id)
    loads = _read_json(rdir / "load.json") if (rdir / "load.json").exists() else {}
    with connect(config.warehouse, read_only=True) as wh:
        counts = wh.read_frame(
            "select approving_unit_code, referral_quarter, sum(deflections) as deflections "
            "from reporting.deflection_counts group by 1, 2 order by 1, 2")
        isp = wh.read_frame(
            "select approving_unit_code, referral_quarter, count(*) as deflections "
            "from reporting.deflection where originating_agency_type in ("
            + ", ".join(f"'{t}'" for t in ISP_ORIGINS) + ") group by 1, 2 order by 1, 2")
        followup = wh.read_frame(
            "select approving_unit_code, referral_quarter, referrals, due, "
            "evaluated_within_90_days, overdue, pct_evaluated_within_90_days "
            "from reporting.followup_compliance order by 1, 2")
        night = night if night is not None else _tonight(wh, run_id)
    result = {
        "run_id": run_id,
        "as_of": run_info(config, run_id)["as_of"],
        "sources": loads,
        "deflection_counts": counts.to_dict(orient="records"),
        "isp_deflection_counts": isp.to_dict(orient="records"),
        "followup_compliance": followup.to_dict(orient="records"),
        "failed_sources": sorted(k for k, v in loads.items() if v["status"] != "ok"),
        "tonight": night,
    }
    report = config.report_dir / run_id / "index.html"
    if report.exists():
        result["report"] = str(report)
    _write_json(rdir / "summary.json", result)
    return result


def _tonight(wh, run_id: str) -> dict | None:
    """The night's verdict and entry counts, as the validation report's first screen shows
    them (stewardship.tonight); None for a run that recorded nothing."""
    from stewardship.tonight import tonight

    try:
        t = tonight(wh, run_id)
    except ValueError:
        return None
    return {"verdict": t.verdict, "new": len(t.new), "carried": len(t.carried),
            "resolved": len(t.resolved), "todo": t.todo}


def format_summary(result: dict) -> str:
    """One screen: per-source outcome, deflections by unit and quarter (every origin, and the
    ISP-originated ones of III.E.3), follow-up."""
    lines = [f"run {result['run_id']}  as of {result['as_of']}", ""]
    lines.append(f"{'source':<16} {'status':<7} {'seen':>5} {'loaded':>6} {'pend':>5} "
                 f"{'quar':>5} {'dup':>4} {'rec.loaded':>10} {'rec.quar':>8} {'rec.known':>9}")
    for name, s in sorted(result["sources"].items()):
        lines.append(
            f"{name:<16} {s['status']:<7} {s['files_seen']:>5} {s['files_loaded']:>6} "
            f"{s['files_pending']:>5} {s['files_quarantined']:>5} {s['files_duplicate']:>4} "
            f"{s['records_loaded']:>10} {s['records_quarantined']:>8} "
            # records already accepted from an earlier file (a cumulative window's re-sends)
            f"{s.get('records_already_accepted', '-'):>9}"
        )
        if s.get("error"):
            lines.append(f"    error: {s['error']}")
    lines += ["", "Deflections by approving unit and quarter, of every origin, and of ISP origin",
              "(DOP/DCI) only: directive III.E.3 counts the ISP-originated ones:",
              f"  {'unit':<14} {'quarter':<8} {'all origins':>11} {'ISP III.E.3':>11}"]
    # a summary written before the ISP figure existed has none: shown as "-", not as 0
    known = "isp_deflection_counts" in result
    isp = {(r["approving_unit_code"], r["referral_quarter"]): int(r["deflections"])
           for r in result.get("isp_deflection_counts", [])}
    for row in result["deflection_counts"]:
        key = (row["approving_unit_code"], row["referral_quarter"])
        isp_text = str(isp.get(key, 0)) if known else "-"
        lines.append(f"  {key[0]:<14} {key[1]:<8} {int(row['deflections']):>11} {isp_text:>11}")
    lines += ["", "Follow-up (first evaluation within 90 days):",
              f"  {'unit':<14} {'quarter':<8} {'refs':>5} {'due':>5} {'in90':>5} {'overdue':>7} {'pct':>6}"]
    for row in result["followup_compliance"]:
        pct = row["pct_evaluated_within_90_days"]
        pct_text = "-" if pct is None or math.isnan(float(pct)) else f"{float(pct):.1f}"
        lines.append(
            f"  {row['approving_unit_code']:<14} {row['referral_quarter']:<8} {row['referrals']:>5} "
            f"{row['due']:>5} {row['evaluated_within_90_days']:>5} {row['overdue']:>7} {pct_text:>6}"
        )
    night = result.get("tonight")
    if night:
        # entries, as the report counts them: the quar columns above count every file and
        # record rejected this run, also those already in quarantine from an earlier night
        lines += ["", (f"Tonight: {night['verdict']} (quarantine entries: {night['new']} new, "
                      f"{night['carried']} carried over, {night['resolved']} resolved)")]
        lines += [f"  {n}. {item}" for n, item in enumerate(night["todo"], start=1)]
    if result.get("report"):
        lines += ["", f"Validation report: {result['report']}"]
    if result["failed_sources"]:
        lines += ["", "FAILED sources: " + ", ".join(result["failed_sources"])]
    return "\n".join(lines)
