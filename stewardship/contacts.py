"""Whom to ask about a unit's data: the contacts file named by the configuration (`contacts_file`),
unit code -> name, e-mail, phone. Contacts never come from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str


def load_contacts(path: str | Path) -> dict[str, Contact]:
    """{unit code (upper case): Contact} from a YAML mapping unit -> {name, email, phone}."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise TypeError(f"{path}: the contacts file maps unit codes to contacts")
    return {
        str(unit).upper(): Contact(str(c.get("name", "")), str(c.get("email", "")),
                                   str(c.get("phone", "")))
        for unit, c in raw.items()
        if isinstance(c, dict)
    }
