"""Record rules of a TraCS FieldReport (deflection-rules.md §5), one small function each."""
from __future__ import annotations

from ingestion.findings import B01, B02, B04, Finding, duplicate_values

NS = "urn:il:isp:tracs:export"


def _q(local: str) -> str:
    return f"{{{NS}}}{local}"


# the paths the rules (and extraction) look up, spelled once: every record runs every rule
INDIVIDUALS = f"{_q('individuals')}/{_q('individual')}"
DEFLECTION = _q("deflection")
_DISPOSITION = _q("individualDisposition")


def _individuals(form):
    return form.findall(INDIVIDUALS)


def _disposition(ind) -> str | None:
    return ind.findtext(_DISPOSITION) or None


def _path(ind) -> str:
    return f"individuals/individual[@seq='{ind.get('seq')}']"


# Each rule takes the form and, optionally, its individuals already found (`record_rules` finds
# them once for all three: the search was a twentieth of a record's checking).

def check_b01(form, individuals=None) -> list[Finding]:
    """B01: an individual with disposition CD and no deflection element."""
    return [B01.finding(f"individual seq {ind.get('seq')}", line=ind.sourceline, path=_path(ind))
            for ind in (_individuals(form) if individuals is None else individuals)
            if _disposition(ind) == "CD" and ind.find(DEFLECTION) is None]


def check_b02(form, individuals=None) -> list[Finding]:
    """B02: a deflection element on an individual whose disposition is not CD."""
    out = []
    for ind in (_individuals(form) if individuals is None else individuals):
        defl = ind.find(DEFLECTION)
        if defl is not None and _disposition(ind) != "CD":
            out.append(B02.finding(f"individual seq {ind.get('seq')} has disposition "
                                   f"{_disposition(ind) or 'blank'}", line=defl.sourceline,
                                   path=_path(ind) + "/deflection"))
    return out


def check_b04_individual_seq(form, individuals=None) -> list[Finding]:
    """B04: the same individual/@seq twice in one FieldReport."""
    return duplicate_values(_individuals(form) if individuals is None else individuals, "seq",
                            "individual seq", B04, path_of=_path)


RECORD_RULES = (check_b01, check_b02, check_b04_individual_seq)


def record_rules(form) -> list[Finding]:
    """Every rule of RECORD_RULES on one FieldReport, its individuals found once."""
    individuals = _individuals(form)
    out = []
    for rule in RECORD_RULES:
        out.extend(rule(form, individuals))
    return out
