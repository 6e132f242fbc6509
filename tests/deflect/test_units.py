import datetime as dt

from deflect.core.units import UnitReference, load_units, unit_codes


def test_reference_has_every_unit_with_history():
    periods = load_units()
    ref = UnitReference(periods)
    assert len(unit_codes(periods)) == 20
    batf_2019 = ref.period_on("BATF", dt.date(2019, 12, 31))
    batf_2020 = ref.period_on("BATF", dt.date(2020, 1, 1))
    assert "17085" in batf_2019.counties and "17085" not in batf_2020.counties
    assert "17175" in batf_2020.counties
    assert ref.period_on("SLANT", dt.date(2019, 6, 1)) is None  # not valid yet
    assert ref.period_on("NOPE", dt.date(2020, 1, 1)) is None
    assert ref.period_on("NCIT", dt.date(2020, 1, 1)).counties == ()
