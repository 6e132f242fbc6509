from deflect.core import rules as rules_catalog

EXPECTED = (
    [f"F0{i}" for i in range(1, 9)]
    + ["S01"]
    + [f"B0{i}" for i in range(1, 6)]
    + [f"W{i:02d}" for i in range(1, 18)]
)


def test_every_code_of_the_rules_is_in_the_catalog_with_its_level():
    assert list(rules_catalog.CODES) == EXPECTED
    for code in EXPECTED:
        r = rules_catalog.rule(code)
        assert r.level == {"F": "file", "S": "record", "B": "record", "W": "deflection"}[code[0]]
        assert r.message and r.effect


def test_unknown_code_has_a_message_and_no_level():
    assert rules_catalog.message("X99") == "unknown rule code"
    assert rules_catalog.level("X99") is None
