"""The rules of deflection-rules.md §2–§4 and the W-flags of §5, the reporting aggregates and the
(publication builds the published tables on them): pure functions over pandas DataFrames."""
from transforms.current import CurrentRows
from transforms.dependencies import DEPENDENCIES, Dependencies, rules_fingerprint
from transforms.marts import Marts, build_marts

__all__ = ["DEPENDENCIES", "CurrentRows", "Dependencies", "Marts", "build_marts",
           "rules_fingerprint"]
