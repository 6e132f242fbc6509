from deflect.core import rules as rules_catalog

# F09 is the project's own (a file over its processing budget), beside the spec's codes
PROJECT_CODES = {"F09"}
EXPECTED = (
    [f"F0{i}" for i in range(1, 10)]
    + ["S01"]
    + [f"B0{i}" for i in range(1, 6)]
    + [f"W{i:02d}" for i in range(1, 21)]
)


def test_every_code_of_the_rules_is_in_the_catalog_with_its_level():
    assert list(rules_catalog.CODES) == EXPECTED
    for code in EXPECTED:
        r = rules_catalog.rule(code)
        assert r.level == {"F": "file", "S": "record", "B": "record", "W": "deflection"}[code[0]]
        assert r.message and r.effect and r.action


def test_unknown_code_has_a_message_and_no_level():
    assert rules_catalog.message("X99") == "unknown rule code"
    assert rules_catalog.level("X99") is None


def test_spec_table_and_catalogue_agree_on_every_code_and_level():
    """deflection-rules.md §5 is the source: every code of its table is in the catalogue, at its
    level, with the spec's effect."""
    import re
    from pathlib import Path

    spec = Path(__file__).resolve().parents[3] / "shared" / "spec" / "deflection-rules.md"
    if not spec.exists():
        import pytest

        pytest.skip(f"{spec} not beside the checkout")
    rows = re.findall(r"^\| ([FSBW]\d\d) \| (\w+) \| .*? \| ([^|]+) \|$",
                      spec.read_text(encoding="utf-8"), re.MULTILINE)
    assert {c for c, _, _ in rows} == set(EXPECTED) - PROJECT_CODES
    for code, lvl, effect in rows:
        r = rules_catalog.rule(code)
        assert r.level == lvl, code
        assert r.effect == effect.strip().replace("`", ""), code


def test_ingestion_and_the_rules_word_findings_from_the_catalogue():
    from ingestion.findings import F05, S01
    from transforms.marts import MESSAGES

    assert F05 is rules_catalog.rule("F05") and S01.finding("x").message.startswith(
        rules_catalog.message("S01"))
    assert all(MESSAGES[c] == rules_catalog.message(c) for c in MESSAGES)
