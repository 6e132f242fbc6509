"""The landing area: raw files kept for replay, readable only by the pipeline's own account.

Every write is atomic on the local side (temporary name in the same directory, fsync, rename,
fsync of the directory), so a crash or a cut connection never leaves a partial file under a final
name. Remote names are never trusted as paths: `safe_name` turns any listing entry into one plain
file name that cannot leave its directory.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_NAME = 150


def safe_name(remote_name: str) -> str:
    """A file name that stays inside its directory whatever the remote listing says.

    Only the last path component is kept; NUL, control and any other character outside
    [A-Za-z0-9._-] becomes '_'; leading dots are dropped (no hidden files, no '.', no '..'); the
    result is bounded in length and never empty.
    """
    base = re.split(r"[\\/]", remote_name)[-1] or remote_name
    name = _UNSAFE.sub("_", base)
    name = name.lstrip(".")
    if not name.strip("_."):
        name = "file_" + hashlib.sha256(remote_name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return name[:MAX_NAME]


def ensure_dir(path: Path) -> Path:
    """Create a directory owner-only, and every missing parent too (mkdir's `mode` applies to
    the last one only); existing parents are left as they are."""
    missing = []
    p = Path(path)
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(d, DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def fsync(path: Path) -> None:
    """Flush a file or a directory (a rename into it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class HashingWriter:
    """A binary file wrapper that hashes and counts what goes through it, and hands each chunk
    to `tee` too when given one (a parser reading the download as it arrives)."""

    def __init__(self, fh, tmp: Path | None = None, tee=None):
        self.fh = fh
        self.tmp = tmp
        self.sha = hashlib.sha256()
        self.size = 0
        self.tee = tee

    def write(self, data) -> int:
        self.fh.write(data)
        self.sha.update(data)
        self.size += len(data)
        if self.tee is not None:
            self.tee(data)
        return len(data)


@contextmanager
def atomic_file(directory: Path, tee=None):
    """Yield a HashingWriter over a new temporary file (its `.tmp`); the caller renames it with
    `commit_tmp`. On error the temporary file is removed: nothing partial is ever left behind."""
    ensure_dir(directory)
    tmp = directory / f".part-{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = HashingWriter(fh, tmp, tee)
            yield writer
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit_tmp(tmp: Path, final: Path) -> Path:
    """Rename a finished temporary file to its final name (same directory) and fsync the dir."""
    os.replace(tmp, final)
    fsync(final.parent)
    return final


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write bytes under `path` atomically (owner-only); an existing file is left as it is when
    its content is the same (content-addressed names)."""
    if path.exists():
        return path
    with atomic_file(path.parent) as writer:
        writer.write(data)
    return commit_tmp(writer.tmp, path)


def copy_atomic(src: Path, dest: Path) -> Path:
    """Copy a file under `dest` atomically (owner-only); skip when `dest` already exists."""
    if dest.exists():
        return dest
    with atomic_file(dest.parent) as writer, open(src, "rb") as fh:
        shutil.copyfileobj(fh, writer, 1024 * 1024)
    return commit_tmp(writer.tmp, dest)


def link_or_copy(src: Path, dest: Path) -> None:
    """`dest` becomes a hard link to `src` (no copy on the same file system), or a copy written
    atomically; an existing `dest` is left as it is."""
    if dest.exists():
        return
    ensure_dir(dest.parent)
    try:
        os.link(src, dest)
    except OSError:
        copy_atomic(src, dest)
