import datetime as dt

import pytest

from deflect.core.person_key import age_in_years, normalise_name, person_key

SECRET = b"example-secret"


def test_spec_vectors():
    assert normalise_name("Núñez") == "NUNEZ"
    assert person_key(SECRET, "Núñez", "José", "1982-08-08") == (
        "477d973dab14ba41452cb3258f9c951e2f2ff4d4dc7a244ce482fee479a7c60a")
    assert normalise_name("Anna-Lena") == "ANNALENA"
    assert person_key(SECRET, "Strauß", "Anna-Lena", "1990-01-02") == (
        "a0115195174a116f3c873e0a748bc56656b838e92850f81fe4a8b3408c55d1f4")


@pytest.mark.parametrize("last,first,dob", [
    ("", "Jane", "1990-01-01"), ("Roe", None, "1990-01-01"), ("Roe", "Jane", None),
    ("123", "Jane", "1990-01-01"),  # nothing left after normalising
])
def test_no_key_when_an_input_is_missing(last, first, dob):
    assert person_key(SECRET, last, first, dob) is None


def test_key_depends_on_secret_and_ignores_case_and_accents():
    a = person_key(SECRET, "o'brien", "zoë", "2000-02-29")
    assert a == person_key(SECRET, "O BRIEN", "ZOE", "2000-02-29")
    assert a != person_key(b"other", "o'brien", "zoë", "2000-02-29")


def test_age_in_whole_years():
    assert age_in_years(dt.date(2000, 2, 29), dt.date(2026, 2, 28)) == 25
    assert age_in_years(dt.date(2000, 2, 29), dt.date(2026, 3, 1)) == 26
    assert age_in_years(None, dt.date(2026, 3, 1)) is None


def _reference_normalise(name):
    """The normalisation of rules §2 written out, character by character."""
    import unicodedata

    if not name:
        return ""
    decomposed = unicodedata.normalize("NFKD", name)
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in no_marks.upper() if "A" <= ch <= "Z")


def test_ascii_shortcut_and_keyed_hmac_give_the_reference_keys():
    import hashlib
    import hmac
    import itertools
    import random

    rng = random.Random(5)
    alphabet = [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\n", "é", "ß", "ﬁ", "İ", "\u0301"]
    names = ["", "a", "O'Brien", "van der Berg", "Smith-Jones Jr.", "MC DONALD 3rd", "x\ty"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
              for _ in range(2000)]
    for name in names:
        assert normalise_name(name) == _reference_normalise(name), repr(name)
    for last, first in itertools.pairwise(names[1:]):
        expected = None
        ln, fn = _reference_normalise(last), _reference_normalise(first)
        if ln and fn:
            expected = hmac.new(SECRET, f"{ln}|{fn}|1990-01-02".encode(),
                                hashlib.sha256).hexdigest()
        assert person_key(SECRET, last, first, "1990-01-02") == expected
        assert person_key(b"other", last, first, "1990-01-02") != expected or expected is None
