"""Units' contacts: whom a steward asks about a unit's files.

They come from the contacts file the configuration names (`contacts_file`), never from the
warehouse: names, e-mail addresses and phone numbers of agency staff are not data of the
statistic and are kept where the operators keep the configuration. The file's shape is
`deflect.core.config.ContactsFile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from deflect.core.config import ConfigError, ContactsFile

TRACS_UNIT = "ISP"  # TraCS is the State Police's own system: its entries are the ISP's


def unit_of(config, source: str) -> str:
    """The unit a source's entries belong to, whose contact a steward asks: a MEG source's
    unit, `ISP` for a TraCS source, else the source's name (also for a source no longer
    configured)."""
    try:
        configured = config.source(source)
    except KeyError:
        return source
    if configured.unit:
        return str(configured.unit)
    return TRACS_UNIT if configured.kind == "tracs" else source


@dataclass(frozen=True)
class Contact:
    unit: str
    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


def load_contacts(path: str | Path | None) -> dict[str, Contact]:
    """Unit code (upper case) -> its contact; {} when no file is configured. A file that is
    named but missing or malformed is a configuration error naming the file."""
    if path is None:
        return {}
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such contacts file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        parsed = ContactsFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    return {
        code: Contact(code, c.name, c.email, c.phone, c.role) for code, c in parsed.units.items()
    }


def contacts_of(config) -> dict[str, Contact]:
    """The contacts of the configuration's `contacts_file` ({} when it names none)."""
    return load_contacts(getattr(config, "contacts_file", None))
