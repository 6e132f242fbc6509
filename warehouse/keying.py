"""The person-key secret the warehouse's keys were made with, known by its fingerprint only.

Person keys made with two secrets never match, so a run with another secret would split every
person in two (W10 flags, double counts) without any error. The first run records the
fingerprint (deflect.core.person_key.secret_fingerprint); later runs must present the same one.
"""
from __future__ import annotations

from warehouse.backend import Warehouse, WarehouseError


class PersonKeyChanged(WarehouseError):
    """The secret is not the one the warehouse's person keys were made with."""


def recorded_fingerprint(wh: Warehouse) -> str | None:
    return wh.scalar("SELECT fingerprint FROM meta.person_key_fingerprint WHERE id = 1")


def record_fingerprint(wh: Warehouse, fingerprint: str) -> None:
    with wh.transaction():
        wh.execute("DELETE FROM meta.person_key_fingerprint WHERE id = 1")
        wh.execute("INSERT INTO meta.person_key_fingerprint (id, fingerprint, set_at) "
                   "VALUES (1, ?, CURRENT_TIMESTAMP)", [fingerprint])


def check_fingerprint(wh: Warehouse, fingerprint: str, variable: str) -> None:
    """Record the fingerprint on a new warehouse; refuse a different one on a keyed warehouse.
    A warehouse that already holds person keys but no fingerprint (made before fingerprints
    were kept) takes the present one."""
    known = recorded_fingerprint(wh)
    if known is None:
        record_fingerprint(wh, fingerprint)
    elif known != fingerprint:
        raise PersonKeyChanged(
            f"the person-key secret in {variable} is not the one this warehouse's person keys "
            f"were made with (keys of two secrets never match, so every person would be split "
            f"in two). Restore the secret; if it was changed on purpose, run `deflect rekey`, "
            f"which makes every key again from the landing archive")
