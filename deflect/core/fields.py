"""Which fields of a source interface hold personal data: the one classification that decides
whether a value may be shown to a steward (in finding messages, excerpts and exports).

Each adapter declares its interface's fields once (`adapters/<kind>/fields.py`), by element and
attribute local name; `adapters.registry.field_classes()` merges every kind's. Personal data are
names, birth dates, addresses, narratives, attachments, free text and anything that identifies a
person (an officer's badge, an approver's id). Everything a classification does not name as not
personal is personal: a misspelt or unknown element in a broken file, an element of another
namespace, an attribute no schema declares.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "[masked]"  # what stands where a personal value was
SHOWN_VALUE_LIMIT = 60  # characters of a value shown; a longer one is cut and marked

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class FieldClasses:
    """Element and attribute local names of an interface, each either personal or not.

    `containers`: elements whose whole content (child elements included) is personal, whatever
    the children are called (TraCS `OtherForm` holds any vocabulary, a citation's driver say).
    A name in both `public_*` and `personal_*` (two interfaces disagreeing) is personal.
    """

    public_elements: frozenset[str] = frozenset()
    personal_elements: frozenset[str] = frozenset()
    public_attributes: frozenset[str] = frozenset()
    personal_attributes: frozenset[str] = frozenset()
    containers: frozenset[str] = frozenset()

    def element_is_personal(self, local_name: str | None) -> bool:
        """Whether the text of element `local_name` may hold personal data (unknown: yes)."""
        return (
            local_name is None
            or local_name not in self.public_elements
            or local_name in self.personal_elements
            or local_name in self.containers
        )

    def attribute_is_personal(self, local_name: str | None) -> bool:
        """Whether the value of attribute `local_name` may hold personal data (unknown: yes).
        Namespace declarations are not data and are never personal."""
        if local_name is not None and (local_name == "xmlns" or local_name.startswith("xmlns:")):
            return False
        return (
            local_name is None
            or local_name not in self.public_attributes
            or local_name in self.personal_attributes
        )

    def classified_elements(self) -> frozenset[str]:
        return self.public_elements | self.personal_elements | self.containers

    def classified_attributes(self) -> frozenset[str]:
        return self.public_attributes | self.personal_attributes


def declare(
    *,
    public_elements: Iterable[str] = (),
    personal_elements: Iterable[str] = (),
    public_attributes: Iterable[str] = (),
    personal_attributes: Iterable[str] = (),
    containers: Iterable[str] = (),
) -> FieldClasses:
    """An interface's classification, refusing a name declared both personal and not."""
    out = FieldClasses(
        frozenset(public_elements),
        frozenset(personal_elements),
        frozenset(public_attributes),
        frozenset(personal_attributes),
        frozenset(containers),
    )
    both = (out.public_elements & (out.personal_elements | out.containers)) | (
        out.public_attributes & out.personal_attributes
    )
    if both:
        raise ValueError(f"declared both personal and not personal: {', '.join(sorted(both))}")
    return out


def merge(*classes: FieldClasses) -> FieldClasses:
    """Several interfaces' classifications as one: a name personal in any of them is personal."""
    return FieldClasses(
        frozenset().union(*(c.public_elements for c in classes)),
        frozenset().union(*(c.personal_elements for c in classes)),
        frozenset().union(*(c.public_attributes for c in classes)),
        frozenset().union(*(c.personal_attributes for c in classes)),
        frozenset().union(*(c.containers for c in classes)),
    )


def shown_value(value: str, limit: int = SHOWN_VALUE_LIMIT) -> str:
    """A value of a field that is not personal, as a steward may see it: at most `limit`
    characters (the rest counted), control characters written as escapes so that a value
    cannot move a terminal's cursor or break a CSV line. HTML escaping is the page's job."""
    if len(value) > limit:
        value = f"{value[:limit]}… ({len(value)} characters)"
    return printable(value.replace("\n", "\\n").replace("\t", "\\t"))


def printable(text: str) -> str:
    """`text` with control characters (but tab) written as escapes (`\\x1b`)."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


# Nothing is known to be not personal: every value is masked. What a function that is not
# handed a classification uses.
NOTHING_PUBLIC = FieldClasses()
