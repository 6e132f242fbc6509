"""The goals' arithmetic: the floor as the mean of its runs before and after the end to end run,
and a run's memory as its whole process tree when that was sampled (or its largest process, if
larger)."""
from __future__ import annotations

import os
import time

import pytest

from bench import report
from bench.runner import tree_pss_mb


def _row(seconds, cpu=None, **kw):
    return {"seconds": seconds, "detail": {"cpu_s": cpu} if cpu else {}, **kw}


def test_the_floor_is_the_mean_of_before_and_after():
    rows = {"x1.floor": _row(4.0, 4.4), "x1.floor_after": _row(6.0, 6.6)}
    wall, cpu, note = report.floor_of(rows, "x1.floor")
    assert (wall, cpu) == (5.0, 5.5) and "4.00 s before and 6.00 s after" in note
    # one run only: that run, nothing said
    assert report.floor_of({"x1.floor": _row(4.0, 4.4)}, "x1.floor") == (4.0, 4.4, "")
    assert report.floor_of({}, "x1.floor") == (None, None, "")


def test_goals_use_the_mean_floor():
    rows = {"x1.e2e": _row(10.0), "x1.floor": _row(4.0), "x1.floor_after": _row(6.0)}
    (goal,) = [g for g in report.goals(rows, [1]) if "2x the floor" in g["goal"]]
    assert goal["value"] == 2.0 and goal["met"] and "mean of" in goal["measure"]
    rows = {"r1.e2e": _row(5.0, 6.0), "r10.e2e": _row(14.0, 24.0),
            "r1.floor": _row(0.4, 0.8), "r1.floor_after": _row(0.6, 1.0),
            "r10.floor": _row(3.0, 3.4), "r10.floor_after": _row(4.0, 4.4)}
    wall, cpu = report.record_goals(rows, [1, 10])
    assert wall["value"] == 3.0 and wall["met"]  # 9 s over (3.5 - 0.5) s
    assert cpu["value"] == 6.0 and not cpu["met"]  # 18 CPU s over (3.9 - 0.9) s


def test_record_goals_take_the_median_round():
    def round_rows(n, e1, e10, f1=0.5, f10=3.5):
        sfx = "" if n == 1 else f".round{n}"
        return {f"r1.e2e{sfx}": _row(e1, e1), f"r10.e2e{sfx}": _row(e10, e10),
                f"r1.floor{sfx}": _row(f1, f1), f"r1.floor_after{sfx}": _row(f1, f1),
                f"r10.floor{sfx}": _row(f10, f10), f"r10.floor_after{sfx}": _row(f10, f10)}

    # slopes 5.0, 2.0 and 2.5: one slow round does not decide the goal
    rows = {**round_rows(1, 5.0, 20.0), **round_rows(2, 5.0, 11.0), **round_rows(3, 5.0, 12.5)}
    assert report.rounds_of(rows) == 3
    wall, cpu = report.record_goals(rows, [1, 10])
    assert wall["value"] == 2.5 and wall["met"]
    assert "median of 3 rounds: 5.00, 2.00, 2.50" in wall["measure"]
    assert cpu["value"] == 2.5 and "median of 3 rounds" in cpu["measure"]
    # an even number of rounds: the mean of the middle two
    rows = {**round_rows(1, 5.0, 20.0), **round_rows(2, 5.0, 11.0)}
    assert report.record_goals(rows, [1, 10])[0]["value"] == 3.5
    # a round left incomplete (a run that failed) is left out, not counted as zero
    del rows["r10.e2e.round2"]
    (wall, _) = report.record_goals(rows, [1, 10])
    assert wall["value"] == 5.0 and "median" not in wall["measure"]


def test_nightly_goal_takes_the_median_round():
    rows = {"x1.e2e": _row(12.0), "x1.floor": _row(4.0), "x1.floor_after": _row(4.0),
            "x1.e2e.round2": _row(8.0), "x1.floor.round2": _row(4.0),
            "x1.floor_after.round2": _row(4.0),
            "x1.e2e.round3": _row(7.0), "x1.floor.round3": _row(3.0),
            "x1.floor_after.round3": _row(5.0)}
    (goal,) = [g for g in report.goals(rows, [1]) if "2x the floor" in g["goal"]]
    assert goal["value"] == 2.0 and goal["met"]  # ratios 3.0, 2.0, 1.75
    assert "median of 3 rounds: 3.00, 2.00, 1.75" in goal["measure"]


def test_empty_night_goal_takes_the_median_round():
    rows = {"x1.e2e_empty": _row(9.0, 6.0), "x1.imports": _row(4.0, 4.0),
            "x1.e2e_empty.round2": _row(5.5, 5.0), "x1.imports.round2": _row(4.0, 4.0),
            "x1.e2e_empty.round3": _row(6.0, 5.5), "x1.imports.round3": _row(4.5, 4.0)}
    (goal,) = [g for g in report.goals(rows, [1]) if "empty night" in g["goal"]]
    assert goal["value"] == 1.5 and goal["met"]  # 5.0, 1.5, 1.5
    assert "median of 3 rounds: 5.00, 1.50, 1.50" in goal["measure"]
    assert "CPU: median 1.50 s of 2.00, 1.00, 1.50" in goal["measure"]
    one = {k: v for k, v in rows.items() if "round" not in k}
    (goal,) = [g for g in report.goals(one, [1]) if "empty night" in g["goal"]]
    assert goal["value"] == 5.0 and not goal["met"]
    assert "CPU: 6.00 s - 4.00 s = 2.00 s" in goal["measure"]


def test_backfill_memory_is_the_process_tree_when_sampled():
    rows = {"backfill.e2e": _row(300.0, maxrss_mb=800.0, tree_mb=1100.0),
            "backfill.floor": _row(100.0)}
    mem = report.backfill_goals(rows)[-1]
    assert mem["value"] == 1100.0 and not mem["met"] and "800 MB" in mem["measure"]
    # a sample can miss a short peak of one process: the larger of the two
    rows["backfill.e2e"]["tree_mb"] = 700.0
    assert report.backfill_goals(rows)[-1]["value"] == 800.0
    rows["backfill.e2e"]["tree_mb"] = None  # not sampled: the largest process
    assert report.backfill_goals(rows)[-1]["value"] == 800.0


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="Linux /proc only")
def test_tree_pss_counts_a_forked_child_once_for_what_it_shares():
    block = bytearray(64 * 2**20)  # touched: resident
    alone = tree_pss_mb(os.getpid())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.read(r, 1)
        os._exit(0)
    try:
        both = tree_pss_mb(os.getpid())
    finally:
        os.write(w, b"x")
        os.waitpid(pid, 0)
    assert alone > 64 and abs(both - alone) < 32, (alone, both)
    del block


def test_the_cpu_bound_is_the_machines_cpu_over_its_cores_against_the_floor():
    def e2e(seconds, machine):
        return {"seconds": seconds, "detail": {"machine_cpu_s": machine, "cores": 2}}

    rows = {"x1.floor": _row(5.0), "x1.floor_after": _row(5.0), "x1.e2e": e2e(14.0, 26.0),
            "x1.floor.round2": _row(4.0), "x1.e2e.round2": e2e(12.0, 24.0),
            "x1.floor.round3": _row(5.0), "x1.e2e.round3": e2e(13.0, 18.0)}
    bound = report.cpu_bound(rows)
    # 26/2/5 = 2.6, 24/2/4 = 3.0, 18/2/5 = 1.8: the median round
    assert bound["value"] == 2.6 and bound["met"] is False
    assert "2.60, 3.00, 1.80" in bound["measure"] and "2 cores" in bound["measure"]
    goals = report.goals(rows, [1])
    assert [g["goal"] for g in goals][:2] == ["end to end within 2x the floor", bound["goal"]]
    # an older result without the machine's CPU: no such row
    assert report.cpu_bound({"x1.floor": _row(5.0), "x1.e2e": _row(14.0)}) is None


def test_the_machines_busy_seconds_grow_with_work():
    from bench.runner import machine_busy_s

    before = machine_busy_s()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert machine_busy_s() - before >= 0.2
