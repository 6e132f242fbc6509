"""The figures as a table, as JSON (bench/results/latest.json) and as Markdown in
docs/performance.md, between markers, so the hand-written analysis around them is kept."""
from __future__ import annotations

import json
from pathlib import Path

BEGIN = "<!-- bench:begin (written by `python -m bench`; edit outside the markers) -->"
END = "<!-- bench:end -->"
PEAK_LIMIT_MB = 500
BACKFILL_PEAK_LIMIT_MB = 1000


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def floor_of(rows: dict[str, dict], key: str) -> tuple[float | None, float | None, str]:
    """(wall s, CPU s, note) of floor row `key` (`<view>.floor`): the mean of it and of its run
    after the end to end run (`<view>.floor_after`) when both were measured. The floor's own
    time moved by up to a quarter between runs on one machine (docs/performance.md), so one run
    alone decided goals near their target."""
    runs = [rows[k] for k in (key, key.replace(".floor", ".floor_after")) if k in rows]
    if not runs:
        return None, None, ""
    wall = sum(r["seconds"] for r in runs) / len(runs)
    cpus = [r.get("detail", {}).get("cpu_s") for r in runs]
    cpu = sum(cpus) / len(cpus) if all(cpus) else None
    note = (f"{key}: mean of {runs[0]['seconds']:.2f} s before and {runs[1]['seconds']:.2f} s "
            "after" if len(runs) == 2 else "")
    return wall, cpu, note


def _with(measure: str, *notes: str) -> str:
    notes = [n for n in notes if n]
    return f"{measure} ({'; '.join(notes)})" if notes else measure


ROUND = ".round"  # key suffix of a repeated measurement: r1.e2e.round2 (round 1 has none)


def round_key(key: str, n: int) -> str:
    return key if n == 1 else f"{key}{ROUND}{n}"


def rounds_of(rows: dict[str, dict], view: str = "r1", measurement: str = "e2e") -> int:
    """How many rounds of `view`'s `measurement` `rows` holds."""
    n = 1
    while f"{view}.{measurement}{ROUND}{n + 1}" in rows:
        n += 1
    return n


def _median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def cpu_bound(rows: dict[str, dict], view: str = "x1") -> dict | None:
    """What the 2x goal asks of the machine: the night's CPU seconds on every core (the e2e
    run's `machine_cpu_s`: its processes, the loopback sshd and PostgreSQL) over the cores, as a
    multiple of the floor's seconds. That is the e2e ratio the run would have with every core
    busy from start to end; above 2, no scheduling meets the goal, only less work does."""
    bounds = []
    for n in range(1, rounds_of(rows, view) + 1):
        e2e = rows.get(round_key(f"{view}.e2e", n), {}).get("detail", {})
        floor, _, _ = floor_of(rows, round_key(f"{view}.floor", n))
        if e2e.get("machine_cpu_s") and e2e.get("cores") and floor:
            bounds.append(e2e["machine_cpu_s"] / e2e["cores"] / floor)
    if not bounds:
        return None
    value = _median(bounds)
    cores = rows[f"{view}.e2e"]["detail"]["cores"]
    note = ", ".join(f"{b:.2f}" for b in bounds)
    return {"goal": "(what goal 6 needs) the night's CPU fits 2x the floor on the machine's cores",
            "measure": f"CPU s of every process on the machine during e2e / {cores} cores / floor s "
                       f"(median of {len(bounds)} rounds: {note})",
            "value": round(value, 2), "target": "<= 2", "met": value <= 2}


def goals(rows: dict[str, dict], scales: list[int]) -> list[dict]:
    """The issue's goals, each as a ratio of two rows measured in the same invocation."""
    if "r1.e2e" in rows:
        return record_goals(rows, scales)

    def sec(key):
        return rows[key]["seconds"] if key in rows else None

    out = []
    e2e = sec("x1.e2e")
    ratios, notes = [], []
    for n in range(1, rounds_of(rows, "x1") + 1):
        t = sec(round_key("x1.e2e", n))
        floor, _, note = floor_of(rows, round_key("x1.floor", n))
        if t and floor:
            ratios.append(t / floor)
            notes.append(note)
    if ratios:
        value = _median(ratios)
        note = (notes[0] if len(ratios) == 1 else f"median of {len(ratios)} rounds: "
                + ", ".join(f"{r:.2f}" for r in ratios))
        out.append({"goal": "end to end within 2x the floor",
                    "measure": _with("e2e s / floor s", note),
                    "value": round(value, 2), "target": "<= 2", "met": value <= 2})
        bound = cpu_bound(rows)
        if bound is not None:
            out.append(bound)
    naive = sec("x1.naive")
    if naive and e2e:
        out.append({"goal": "at least 10x faster than the naive baseline",
                    "measure": "naive s / e2e s", "value": _ratio(naive, e2e), "target": ">= 10",
                    "met": naive / e2e >= 10})
    fetch, ssh = sec("x1.stage.fetch"), sec("x1.openssh_sftp")
    if fetch and ssh:
        out.append({"goal": "SFTP fetch at least 0.8x OpenSSH's client",
                    "measure": "sftp s / pipeline fetch s", "value": _ratio(ssh, fetch),
                    "target": ">= 0.8", "met": ssh / fetch >= 0.8})
    load, copy = sec("x1.stage.load"), sec("x1.bare_copy")
    if load and copy:
        out.append({"goal": "load at least 0.5x bare COPY", "measure": "COPY s / load s",
                    "value": _ratio(copy, load), "target": ">= 0.5", "met": copy / load >= 0.5})
    if "bigfile.ingest" in rows:
        r = rows["bigfile.ingest"]
        out.append({"goal": "peak memory under 500 MB for a single 1 GB export file",
                    "measure": f"ingest peak RSS, one {r['mb']:.0f} MB file",
                    "value": r["maxrss_mb"], "target": f"< {PEAK_LIMIT_MB} MB",
                    "met": r["maxrss_mb"] < PEAK_LIMIT_MB})
    elif "x1.stage.fetch" in rows:
        r = rows["x1.stage.fetch"]
        out.append({"goal": "peak memory under 500 MB for a single 1 GB export file",
                    "measure": "ingest peak RSS on the nightly set; 1 GB file not run",
                    "value": r["maxrss_mb"], "target": f"< {PEAK_LIMIT_MB} MB", "met": None})
    walls, cpus = [], []
    for n in range(1, rounds_of(rows, "x1", "e2e_empty") + 1):
        keys = (round_key("x1.e2e_empty", n), round_key("x1.imports", n))
        if all(k in rows for k in keys):
            walls.append(rows[keys[0]]["seconds"] - rows[keys[1]]["seconds"])
            cpu = [rows[k].get("detail", {}).get("cpu_s") for k in keys]
            cpus.append(cpu[0] - cpu[1] if all(c is not None for c in cpu) else None)
    if walls:
        # CPU seconds beside the wall time: on a shared machine the wall time is the noisier
        if len(walls) == 1:
            cpu = [rows[k].get("detail", {}).get("cpu_s") for k in ("x1.e2e_empty", "x1.imports")]
            note = (f"CPU: {cpu[0]:.2f} s - {cpu[1]:.2f} s = {cpu[0] - cpu[1]:.2f} s"
                    if None not in cpus else "")
        else:
            note = (f"median of {len(walls)} rounds: " + ", ".join(f"{v:.2f}" for v in walls)
                    + ("" if None in cpus else "; CPU: median "
                       f"{_median(cpus):.2f} s of " + ", ".join(f"{v:.2f}" for v in cpus)))
        value = _median(walls)
        out.append({"goal": "an empty night within 2 s of the pipeline's imports",
                    "measure": _with("e2e_empty s - imports s", note), "value": round(value, 2),
                    "target": "<= 2 s", "met": value <= 2})
    first = sec("x1.e2e")
    for k in scales[1:]:
        t = sec(f"x{k}.e2e")
        if t and first:
            limit = 1.1 * k
            out.append({"goal": f"{k}x the input costs at most {limit:g}x the time",
                        "measure": f"e2e x{k} s / e2e x1 s", "value": _ratio(t, first),
                        "target": f"<= {limit:g}", "met": t / first <= limit})
    return out


def _round_slopes(rows: dict[str, dict], last: int, n: int) -> tuple | None:
    """(wall slope, CPU slope or None, floor notes) of round `n`, None when not all measured."""
    keys = [round_key(k, n) for k in ("r1.e2e", f"r{last}.e2e", "r1.floor", f"r{last}.floor")]
    if not all(k in rows for k in keys):
        return None
    e1, en = rows[keys[0]]["seconds"], rows[keys[1]]["seconds"]
    f1, c1, n1 = floor_of(rows, keys[2])
    fn, cn, nn = floor_of(rows, keys[3])
    wall = _ratio(en - e1, fn - f1)
    cpu = [rows[k].get("detail", {}).get("cpu_s") for k in keys[:2]]
    c_slope = _ratio(cpu[1] - cpu[0], cn - c1) if all(cpu) and c1 and cn else None
    return wall, c_slope, (n1, nn)


def record_goals(rows: dict[str, dict], scales: list[int]) -> list[dict]:
    """Workload `records`: the marginal cost of records (slope of the time between the first
    and the last scale) against the floor's slope. With several rounds (each its own floors
    and end to end runs, alternated), the goal takes the median round: on a shared machine one
    round's slope moved from 3.3x to 5.1x between two runs of the same code."""
    last = scales[-1]
    rounds = [r for n in range(1, rounds_of(rows) + 1)
              if (r := _round_slopes(rows, last, n)) is not None]
    if not rounds:
        return []
    measure = f"(e2e r{last} - e2e r1) / (floor r{last} - floor r1)"
    walls = [r[0] for r in rounds]
    cpus = [r[1] for r in rounds]

    def summary(values):
        if None in values:
            return None, ""
        if len(values) == 1:
            return values[0], ""
        return round(_median(values), 2), (f"median of {len(values)} rounds: "
                                           + ", ".join(f"{v:.2f}" for v in values))

    wall, wall_note = summary(walls)
    out = [{"goal": f"marginal cost of records ({last}x vs 1x) at most 3x the floor's",
            "measure": _with(measure, wall_note, *(rounds[0][2] if len(rounds) == 1 else ())),
            "value": wall, "target": "<= 3", "met": wall is not None and wall <= 3}]
    cpu, cpu_note = summary(cpus)
    if cpu is not None:
        out.append({"goal": "the same in CPU seconds (less moved by other load on the machine)",
                    "measure": _with(f"{measure}, CPU s", cpu_note),
                    "value": cpu, "target": "<= 3", "met": cpu <= 3})
    return out


def _peak(row: dict) -> tuple[float, str]:
    """A run's peak memory: the larger of its whole process tree's (sampled PSS: workers, the
    forked suites and report pages together) and its largest single process's (VmHWM, exact,
    where a sample can miss a short peak and PSS discounts pages shared with other processes)."""
    if row.get("tree_mb"):
        return max(row["tree_mb"], row["maxrss_mb"]), (
            f"the larger of the peak PSS of `deflect run` and all its processes together "
            f"({row['tree_mb']:.0f} MB, sampled) and its largest single process "
            f"({row['maxrss_mb']:.0f} MB)")
    return row["maxrss_mb"], "peak RSS of `deflect run` (largest of its processes)"


def backfill_goals(rows: dict[str, dict]) -> list[dict]:
    """Goal 4 of issue "Scale": the whole backfill within 3x the floor, peak under 1 GB."""
    if "backfill.e2e" not in rows or "backfill.floor" not in rows:
        return []
    e2e = rows["backfill.e2e"]
    floor, floor_cpu, note = floor_of(rows, "backfill.floor")
    out = [{"goal": "the backfill end to end within 3x the floor",
            "measure": _with("e2e s / floor s", note),
            "value": _ratio(e2e["seconds"], floor), "target": "<= 3",
            "met": e2e["seconds"] / floor <= 3}]
    cpu = e2e.get("detail", {}).get("cpu_s")
    if cpu and floor_cpu:
        out.append({"goal": "the same in CPU seconds", "measure": "e2e CPU s / floor CPU s",
                    "value": _ratio(cpu, floor_cpu), "target": "<= 3",
                    "met": cpu / floor_cpu <= 3})
    peak, what = _peak(e2e)
    out.append({"goal": "the backfill's peak memory under 1 GB", "measure": what, "value": peak,
                "target": f"< {BACKFILL_PEAK_LIMIT_MB} MB", "met": peak < BACKFILL_PEAK_LIMIT_MB})
    return out


def full_goals(rows: dict[str, dict], check: dict | None = None) -> list[dict]:
    """Goal 1 of issue "Scale": a night on a five-year warehouse at most 1.5x the same night on
    an empty one, under 500 MB."""
    full, empty = rows.get("full.e2e_full"), rows.get("full.e2e_empty_warehouse")
    if not (full and empty):
        return []
    out = [{"goal": "a night on a five-year warehouse within 1.5x the same night on an empty one",
            "measure": "e2e_full s / e2e_empty_warehouse s",
            "value": _ratio(full["seconds"], empty["seconds"]), "target": "<= 1.5",
            "met": full["seconds"] / empty["seconds"] <= 1.5}]
    cpu = (full.get("detail", {}).get("cpu_s"), empty.get("detail", {}).get("cpu_s"))
    if all(cpu):
        out.append({"goal": "the same in CPU seconds", "measure": "e2e_full CPU s / "
                    "e2e_empty_warehouse CPU s", "value": _ratio(*cpu), "target": "<= 1.5",
                    "met": cpu[0] / cpu[1] <= 1.5})
    peak, what = _peak(full)
    out.append({"goal": "the night on the five-year warehouse under 500 MB",
                "measure": what, "value": peak, "target": f"< {PEAK_LIMIT_MB} MB",
                "met": peak < PEAK_LIMIT_MB})
    if check is not None:
        out.append({"goal": "seeded rows are those the pipeline loads (sample night)",
                    "measure": "tables differing, copy 1 vs the rewritten night's load",
                    "value": len(check["differences"]), "target": "0",
                    "met": not check["differences"]})
    return out


# -- text -----------------------------------------------------------------------------------------

def _fmt(v, nd=1) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def rows_table(rows: list[dict]) -> list[list[str]]:
    head = ["measurement", "what", "seconds", "MB", "MB/s", "records/s", "peak RSS MB",
            "tree PSS MB", "process"]
    body = [[r["key"], r["what"], _fmt(r["seconds"], 2), _fmt(r["mb"]), _fmt(r["mb_s"]),
             _fmt(r["records_s"]), _fmt(r["maxrss_mb"], 0), _fmt(r.get("tree_mb"), 0),
             r.get("process") or ""]
            for r in rows]
    return [head, *body]


def goals_table(gs: list[dict]) -> list[list[str]]:
    head = ["goal", "measure", "value", "target", "met"]
    met = {True: "yes", False: "**no**", None: "n/a"}
    return [head, *[[g["goal"], g["measure"], _fmt(g["value"], 2), g["target"], met[g["met"]]]
                    for g in gs]]


def plain(table: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in table[1:]]
    return "\n".join(lines)


# -- JSON -----------------------------------------------------------------------------------------

def save(path: Path, name: str, section: dict) -> dict:
    """Replace workload `name` in the results file, keep the others; the whole document."""
    doc = {"format": 1, "workloads": {}}
    if path.exists():
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError:
            pass
    doc.setdefault("workloads", {})[name] = section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return doc


# -- Markdown -------------------------------------------------------------------------------------

def _machine(m: dict) -> str:
    table = [["CPU", "cores", "RAM", "OS", "Python", "lxml (libxml2)", "xmlschema", "pandas",
              "paramiko", "OpenSSH", "PostgreSQL", "DuckDB", "load average at start"],
             [m["cpu"], str(m["cores"]), f"{m['ram_gb']} GB", m["os"], m["python"],
              f"{m['lxml']} ({m['libxml2']})", m["xmlschema"], m["pandas"], m["paramiko"],
              (m.get("openssh") or "").split(",")[0], m.get("postgresql") or "", m["duckdb"],
              " / ".join(str(x) for x in m["load_average_at_start"])]]
    # one column per line reads better than a 13-column row
    return markdown([["", "value"], *[[h, v] for h, v in zip(table[0], table[1])]])


def _inputs(inputs: dict) -> str:
    table = [["view", "nights", "files", "MB", "TraCS forms", "MEG cases", "largest file MB"]]
    for name, i in inputs.items():
        if "nights" not in i:  # not a view (the seeded years of workload full: in its notes)
            continue
        table.append([name, str(i["nights"]), str(i["files"]), _fmt(i["mb"]),
                      _fmt(i["tracs_forms"]), _fmt(i["meg_cases"]), _fmt(i["largest_file_mb"])])
    return markdown(table)


def section_markdown(name: str, s: dict) -> str:
    parts = [f"### Workload `{name}`", "",
             (f"Measured {s['measured_at']} with `{s['command']}` "
             f"({s['elapsed_s'] / 60:.1f} min including generation)."), "",
             _machine(s["machine"]), "", _inputs(s["inputs"]), ""]
    if s.get("goals"):
        parts += [markdown(goals_table(s["goals"])), ""]
    parts += [markdown(rows_table(s["rows"])), ""]
    for note in s.get("notes", []):
        parts += [f"- {note}"]
    if s.get("notes"):
        parts.append("")
    prof = s.get("profile")
    if prof and prof.get("top"):
        parts += [(f"Profile of the slowest stage (`{prof['stage']}`, cProfile, "
                  f"top by own time; full text in `{prof['file']}`):"), "", "```",
                  prof["top"].rstrip(), "```", ""]
    return "\n".join(parts)


def write_doc(path: Path, results: dict, skeleton: str) -> None:
    order = ["nightly", "bigfile", "backfill", "full"]
    names = sorted(results["workloads"], key=lambda n: order.index(n) if n in order else 99)
    generated = "\n".join(section_markdown(n, results["workloads"][n]) for n in names)
    block = f"{BEGIN}\n\n{generated}\n{END}"
    text = path.read_text() if path.exists() else skeleton
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def profile_top(text: str, lines: int = 28) -> str:
    """The head of the tottime listing: the header line and the top functions."""
    out = text.split("\n\n\n")[0] if "\n\n\n" in text else text
    keep = [line for line in out.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(keep) if line.lstrip().startswith("ncalls")), 0)
    header = [line.strip() for line in keep[:start] if "function calls" in line]
    return "\n".join(header + keep[start:start + lines])
