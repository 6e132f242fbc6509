"""What every column of an exported table means: the one place the package's Table Schemas take
field types and descriptions from (publication.md §4). docs/data-dictionary.md ("Export files")
lists the same fields with the same words; tests/publication/test_fields.py holds the two equal.

A table column missing here cannot be exported (`publication.export` refuses it), so a new
column is described before it leaves the office.
"""
from __future__ import annotations

from dataclasses import dataclass

# Table Schema types (https://specs.frictionlessdata.io/table-schema/#types-and-formats) used here.
TYPES = ("string", "integer", "number", "boolean")

SUPPRESSION_RULE = (
    "Primary: a count from 1 to 9 is suppressed (0 is published); a rate or median whose "
    "denominator is from 1 to 9 is suppressed. Complementary: further cells are suppressed until "
    "the interval a reader can derive for every suppressed cell from everything published in the "
    "same vintage (non-negative integers; a suppressed count may be 0) is at least the vintage's "
    "protection width wide, checked by linear programming before the vintage is published. A "
    "suppressed value is empty in the files and `suppressed` is true."
)


@dataclass(frozen=True)
class Field:
    name: str
    type: str          # a Table Schema type, one of TYPES
    description: str


FIELDS: dict[str, Field] = {f.name: f for f in (
    # dimensions
    Field("origin", "string",
          "`ISP`: deflections originated by ISP (`ISP_DOP`, `ISP_DCI`), the directive III.E.3 "
          "figure; `ALL`: every origin."),
    Field("approving_unit_code", "string",
          "The program: the MEG or task force that approved the deflection (`UNATTRIBUTED` when "
          "none); `ALL` for a total over programs."),
    Field("referral_quarter", "string",
          "`YYYY-Qn`, the calendar quarter of the referral date; `ALL` for a total over quarters."),
    Field("pathway", "string",
          "`SELF_REFERRAL`, `ACTIVE_OUTREACH`, `NALOXONE_PLUS`, `OFFICER_PREVENTION`, "
          "`OFFICER_INTERVENTION`, `unknown`; `ALL` for a total over pathways."),
    Field("sex", "string",
          "Interface code (`M`, `F`, `X`, `U`), `unknown` when not reported; `ALL` for a total."),
    Field("race", "string",
          "Interface code (`W`, `B`, `A`, `I`, `P`, `M`, `U`), `unknown` when not reported; `ALL` "
          "for a total."),
    Field("ethnicity", "string",
          "`H`, `N`, `U`, `unknown` when not reported (always for a deflection only MEG reports); "
          "`ALL` for a total."),
    Field("age_band", "string",
          "Age at referral: `<18`, `18-24`, `25-34`, `35-44`, `45-54`, `55-64`, `65+`, "
          "`unknown`; `ALL` for a total."),
    Field("engagement_bucket", "string",
          "Days from the encounter to treatment engagement: `0-7`, `8-14`, `15-30`, `31-60`, "
          "`61-90`, `>90`, `not engaged`; `ALL` for a total."),
    # measures
    Field("deflections", "integer",
          "Counted deflections (encounters with a treatment referral) in the cell; empty when "
          "suppressed."),
    Field("participants", "integer",
          "Distinct person keys among the cell's deflections, plus each deflection without a "
          "key; empty when suppressed. Not additive: a person may take part in two programs or "
          "quarters, so totals are counted, not summed."),
    Field("encounters", "integer",
          "Law enforcement encounters that resulted in a treatment referral: the cell's "
          "deflections; empty when suppressed."),
    Field("matured_30", "integer",
          "Deflections whose encounter date + 30 days is on or before the as-of date; empty when "
          "suppressed."),
    Field("engaged_30", "integer",
          "Matured deflections engaged in treatment within 30 days of the encounter; empty when "
          "suppressed."),
    Field("engagement_rate_30", "number",
          "30-day engagement rate: 100 × engaged_30 / matured_30, rounded half up to one "
          "decimal; empty when nothing matured or when suppressed."),
    Field("median_days_to_engagement", "number",
          "Median days from encounter to engagement over the engaged deflections; empty when none "
          "engaged or when suppressed (always over fewer than 10)."),
    Field("suppressed", "boolean",
          "True when a value of the row must not be published: it is empty in this file (with "
          "several measures, `suppressed_measures` names which)."),
    Field("suppressed_measures", "string",
          "The measures of the row that are suppressed, comma-separated; empty when none."),
)}


def field(name: str) -> Field:
    try:
        return FIELDS[name]
    except KeyError:
        raise KeyError(
            f"column {name!r} has no description in publication/fields.py "
            "(and docs/data-dictionary.md, Export files)") from None
