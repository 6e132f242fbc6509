"""The person key of deflection-rules.md §2.

Names and birth dates are turned into this key during extraction and go no further: nothing else
in the project ever sees them. The secret comes from the environment variable the configuration
names and never enters the warehouse or a log.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

_NOT_A_TO_Z = re.compile("[^A-Z]+")


def normalise_name(name: str | None) -> str:
    """NFKD, drop combining marks, full Unicode upper-casing (ß -> SS), keep only A-Z."""
    if not name:
        return ""
    if name.isascii():
        # the same result without the per-character Python loops (one per name of every
        # record): NFKD leaves ASCII unchanged and no ASCII character is a combining mark
        return _NOT_A_TO_Z.sub("", name.upper())
    decomposed = unicodedata.normalize("NFKD", name)
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    upper = no_marks.upper()  # str.upper applies the full case mapping: 'ß'.upper() == 'SS'
    return "".join(ch for ch in upper if "A" <= ch <= "Z")


def person_key(secret: bytes, last: str | None, first: str | None, birth_date: str | None) -> str | None:
    """Lowercase hex HMAC-SHA256 of `LAST|FIRST|YYYY-MM-DD`, or None when an input is missing."""
    last_n, first_n = normalise_name(last), normalise_name(first)
    if not last_n or not first_n or not birth_date:
        return None
    mac = _keyed(secret).copy()  # the same HMAC as hmac.new(secret, ...), keyed once
    mac.update(f"{last_n}|{first_n}|{birth_date}".encode())
    return mac.hexdigest()


@lru_cache(maxsize=4)
def _keyed(secret: bytes):
    return hmac.new(secret, digestmod=hashlib.sha256)


def age_in_years(birth_date, on_date) -> int | None:
    """Whole years between two dates (the age at referral), None when either is missing."""
    if birth_date is None or on_date is None:
        return None
    years = on_date.year - birth_date.year
    if (on_date.month, on_date.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def secret_fingerprint(secret: bytes) -> str:
    """What the warehouse keeps to recognise its secret: an HMAC of a fixed text under it. It
    tells one secret from another and reveals nothing of it (nor lets anyone make keys)."""
    return hmac.new(secret, b"deflect person-key fingerprint v1", hashlib.sha256).hexdigest()[:32]
