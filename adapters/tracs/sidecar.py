"""The TraCS checksum sidecar: one line in sha256sum format (tracs-incident-export.md §1)."""
from __future__ import annotations

import re

_LINE = re.compile(rb"([0-9a-f]{64})  ([^\r\n]+)\n")


def parse_sidecar(data: bytes | None, data_name: str) -> str | None:
    """The digest a sidecar gives for `data_name`, or None when missing or malformed (exactly
    one line: 64 lowercase hex digits, two spaces, the data file's name, newline)."""
    if data is None:
        return None
    m = _LINE.fullmatch(data)
    if not m or m.group(2) != data_name.encode("utf-8"):
        return None
    return m.group(1).decode("ascii")


def sidecar_line(digest: str, data_name: str) -> bytes:
    """The sidecar's one line, as the producer writes it."""
    return f"{digest}  {data_name}\n".encode()
