"""`deflect explain`: where a figure comes from, for data stewards (publication.md §5).

    deflect explain --config F DEFLECTION_ID
        the record versions behind the deflection's current row (quality.lineage): source,
        record, version, file, line, run, load time
    deflect explain --config F --cell TABLE UNIT QUARTER [CATEGORY]
        the deflections behind a published cell of the latest vintage that has it

A cell's deflections are those the publication stored when it published the vintage
(`quality.published_cell_member`: per vintage, table, finest cell and measure, its deflections,
with the cell's `origin`, `approving_unit_code`, `referral_quarter` and `category`); a total is
the union of its cells. They are listed per measure (the statutory measures count encounters,
matured and engaged deflections) and, in the III.E.3 table, per origin unless one is asked for.
Without that view, or without a vintage, the command says there is no published vintage.

Both read `quality`, which the analyst role cannot: the output names source records and files,
never a person (no key, no demographics). Exit status 2 when there is nothing to explain.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import pandas as pd

from deflect.core.config import Config

CELL_MEMBERS = "quality.published_cell_member"
PUBLICATION = "reporting.publication"
ALL = "ALL"


class NothingToExplain(LookupError):
    """No such deflection, no published vintage, or no such cell in it."""


@dataclass(frozen=True)
class CellMembers:
    vintage_id: str
    cell: str                        # "TABLE UNIT QUARTER [CATEGORY]" as asked
    groups: dict[str, list[dict]]    # measure (and origin) -> its deflections


def _relation_exists(wh, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(wh.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
        "AND table_name = ?", [schema, name]))


def lineage(config: Config, deflection_id: str) -> tuple[dict, pd.DataFrame]:
    """The deflection's row (no personal column) and its lineage rows."""
    from warehouse import connect

    with connect(config.warehouse, read_only=True) as wh:
        found = wh.read_frame(
            "SELECT deflection_id, approving_unit_code, referral_quarter, referral_date, "
            "pathway, sources, flags FROM reporting.deflection WHERE deflection_id = ?",
            [deflection_id])
        rows = wh.read_frame(
            "SELECT source, record_id, version, file_name, line, run_id, loaded_at "
            "FROM quality.lineage WHERE deflection_id = ? ORDER BY source, record_id",
            [deflection_id])
    if found.empty:
        raise NothingToExplain(
            f"{deflection_id} is not a counted deflection now (unknown, withdrawn, or its links "
            "changed and it counts under another id; quality.finding keeps its history)")
    return found.iloc[0].to_dict(), rows


def cell_members(config: Config, table: str, unit: str, quarter: str,
                 category: str | None = None) -> CellMembers:
    """The deflections behind a published cell, in the latest vintage that has it.

    The publication stores the deflections of each finest cell; a total (`ALL` as the unit, the
    quarter or the category) is the union of its finest cells. The category is the table's
    category (a sex, a pathway, ...) or, in the III.E.3 table, the origin (`ISP`, `ALL`)."""
    from warehouse import connect

    where, params = ["m.table_name = ?"], [table]
    for column, value in (("approving_unit_code", unit), ("referral_quarter", quarter)):
        if value != ALL:
            where.append(f"m.{column} = ?")
            params.append(value)
    if category == ALL:  # every category; of the origins, ALL itself
        where.append("(m.origin IS NULL OR m.origin = ?)")
        params.append(ALL)
    elif category is not None:
        where.append("(m.category = ? OR m.origin = ?)")
        params += [category, category]
    asked = " ".join(v for v in (table, unit, quarter, category) if v is not None)
    with connect(config.warehouse, read_only=True) as wh:
        if not (_relation_exists(wh, CELL_MEMBERS) and _relation_exists(wh, PUBLICATION)) \
                or not wh.scalar(f"SELECT count(*) FROM {PUBLICATION}"):
            raise NothingToExplain("no published vintage: nothing has been published yet "
                                   "(`deflect publish`)")
        members = wh.read_frame(
            f"SELECT m.vintage_id, p.published_at, m.measure, m.origin, m.deflection_id "
            f"FROM {CELL_MEMBERS} m JOIN {PUBLICATION} p ON p.vintage_id = m.vintage_id "
            f"WHERE {' AND '.join(where)}", params)
        if members.empty:
            raise NothingToExplain(f"no published vintage has deflections in the cell {asked}")
        latest = members.sort_values(["published_at", "vintage_id"]).iloc[-1]["vintage_id"]
        chosen = members[members["vintage_id"] == latest].fillna({"origin": ""})
        described = _deflections(wh, sorted(set(chosen["deflection_id"])))
    groups: dict[str, list[dict]] = {}
    for (measure, origin), group in chosen.groupby(["measure", "origin"], sort=True):
        name = measure + (f", origin {origin}" if origin else "")
        groups[name] = [described.get(d, {"deflection_id": d, "sources": "not counted now"})
                        for d in sorted(set(group["deflection_id"]))]
    return CellMembers(str(latest), asked, groups)


def _deflections(wh, ids: list[str]) -> dict[str, dict]:
    """What a steward needs to find each deflection again; a deflection that stopped counting
    since the vintage is absent."""
    out = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        marks = ", ".join("?" * len(chunk))
        frame = wh.read_frame(
            "SELECT deflection_id, sources, referral_date, pathway FROM reporting.deflection "
            f"WHERE deflection_id IN ({marks})", chunk)
        out.update({r["deflection_id"]: r for r in frame.to_dict(orient="records")})
    return out


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    def line(values):
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return [line(header)] + [line(r) for r in rows]


def format_lineage(deflection: dict, rows: pd.DataFrame) -> str:
    head = (f"{deflection['deflection_id']}: {deflection['approving_unit_code']} "
            f"{deflection['referral_quarter']}, {deflection['pathway']}, referred "
            f"{_text(deflection['referral_date'])[:10]}, reported by {deflection['sources']}"
            + (f", flags {deflection['flags']}" if deflection["flags"] else ""))
    header = ["source", "record", "version", "file", "line", "run", "loaded at"]
    body = [[_text(r[c]) for c in ("source", "record_id", "version", "file_name", "line",
                                   "run_id", "loaded_at")]
            for r in rows.to_dict(orient="records")]
    return "\n".join([head, *_columns(header, body)])


def format_cells(found: CellMembers) -> str:
    out = [f"{found.cell}, vintage {found.vintage_id}"]
    for name, deflections in found.groups.items():
        out.append(f"{name}: {len(deflections)} deflection(s)")
        body = [[d["deflection_id"], _text(d.get("sources")),
                 _text(d.get("referral_date"))[:10], _text(d.get("pathway"))]
                for d in deflections]
        out += ["  " + line for line in
                _columns(["deflection", "sources", "referral", "pathway"], body)]
    return "\n".join(out)


def cmd_explain(args) -> int:
    from deflect.configuration import load_config

    config = load_config(args.config)
    try:
        if args.cell:
            if args.deflection_id or not 3 <= len(args.cell) <= 4:
                print("deflect explain: --cell takes TABLE UNIT QUARTER [CATEGORY] and no "
                      "deflection id", file=sys.stderr)
                return 2
            print(format_cells(cell_members(config, *args.cell)))
        elif args.deflection_id:
            print(format_lineage(*lineage(config, args.deflection_id)))
        else:
            print("deflect explain: give a DEFLECTION_ID or --cell TABLE UNIT QUARTER "
                  "[CATEGORY]", file=sys.stderr)
            return 2
    except NothingToExplain as exc:
        print(f"deflect explain: {exc}", file=sys.stderr)
        return 2
    return 0


def register(sub) -> None:
    """Add `explain` to the `deflect` command's sub-parsers."""
    p = sub.add_parser("explain", help="where a deflection or a published cell comes from "
                       "(stewards)")
    p.add_argument("--config", required=True)
    p.add_argument("deflection_id", nargs="?")
    p.add_argument("--cell", nargs="+", metavar="VALUE",
                   help="TABLE UNIT QUARTER [CATEGORY]: the deflections behind a published cell "
                        "of the latest vintage")
    p.set_defaults(func=cmd_explain)
