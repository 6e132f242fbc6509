"""The configuration file of operations.md (YAML), loaded into plain dataclasses.

Relative paths are relative to the file. Unknown keys are an error that names the key. Secrets are
never in the file: the person-key secret is read from the environment variable it names, and SFTP
private keys are files referred to by path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

TOP_LEVEL_KEYS = {
    "warehouse", "landing_dir", "person_key_secret_env", "max_file_bytes", "sources",
    # additions of this project (operations.md allows new options)
    "work_dir", "report_dir", "reference_units", "file_shards",
}
SOURCE_KEYS = {"name", "kind", "unit", "url", "host_key", "key_file", "connect_timeout", "retries"}
KINDS = ("tracs", "meg")
DEFAULT_MAX_FILE_BYTES = 2 * 1024**3


class ConfigError(ValueError):
    """A configuration problem, with the file and the key it concerns."""


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str  # "tracs" | "meg"
    url: str
    unit: str | None = None  # required for kind "meg"
    host_key: str | None = None  # "ssh-ed25519 AAAA..." pinned; required for sftp://
    key_file: Path | None = None
    connect_timeout: float = 15.0
    retries: int = 3

    @property
    def scheme(self) -> str:
        return urlparse(self.url).scheme

    @property
    def path(self) -> str:
        """The remote directory (sftp://) or local directory (file://)."""
        return unquote(urlparse(self.url).path)

    @property
    def host(self) -> str | None:
        return urlparse(self.url).hostname

    @property
    def port(self) -> int:
        return urlparse(self.url).port or 22

    @property
    def username(self) -> str | None:
        return urlparse(self.url).username


@dataclass(frozen=True)
class Config:
    path: Path
    warehouse: str
    landing_dir: Path
    person_key_secret_env: str
    sources: tuple[SourceConfig, ...]
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # processes that check one large file together (ingestion/shards.py); 0: one per core
    file_shards: int = 0
    work_dir: Path = field(default=None)  # type: ignore[assignment]
    report_dir: Path = field(default=None)  # type: ignore[assignment]
    reference_units: Path | None = None

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def person_key_secret(self) -> bytes:
        value = os.environ.get(self.person_key_secret_env)
        if not value:
            raise ConfigError(
                f"{self.path}: the person-key secret variable {self.person_key_secret_env} is not set"
            )
        return value.encode("utf-8")


def _resolve(base: Path, value: str) -> Path:
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base / p).resolve()


def _resolve_url(base: Path, url: str) -> str:
    """file:// URLs with a relative path are relative to the configuration file."""
    parsed = urlparse(url)
    if parsed.scheme == "file" and not parsed.netloc and not parsed.path.startswith("/"):
        return "file://" + str(_resolve(base, unquote(parsed.path)))
    if parsed.scheme == "file" and parsed.netloc and parsed.netloc != "localhost":
        # file://relative/dir parses 'relative' as a host: treat it as a relative path
        return "file://" + str(_resolve(base, parsed.netloc + unquote(parsed.path)))
    return url


def _resolve_warehouse(base: Path, url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        raw = url[len("duckdb://"):]
        if raw.startswith("/") and not raw.startswith("//"):
            raw = raw[1:]  # duckdb:///relative -> relative; duckdb:////abs -> /abs
        return "duckdb://" + str(_resolve(base, raw))
    return url


def _non_negative(path: Path, key: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{path}: {key} must be a whole number, 0 or more, not {value!r}")
    return value


def _check_keys(where: str, data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}")


def parse_config(data: dict, path: Path) -> Config:
    base = path.parent
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    _check_keys(str(path), data, TOP_LEVEL_KEYS)
    for key in ("warehouse", "landing_dir", "person_key_secret_env", "sources"):
        if key not in data:
            raise ConfigError(f"{path}: missing key {key!r}")
    sources = []
    seen = set()
    for i, raw in enumerate(data["sources"] or []):
        where = f"{path}: sources[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a mapping")
        _check_keys(where, raw, SOURCE_KEYS)
        for key in ("name", "kind", "url"):
            if key not in raw:
                raise ConfigError(f"{where}: missing key {key!r}")
        if raw["kind"] not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {KINDS}, not {raw['kind']!r}")
        if raw["name"] in seen:
            raise ConfigError(f"{where}: duplicate source name {raw['name']!r}")
        seen.add(raw["name"])
        if raw["kind"] == "meg" and not raw.get("unit"):
            raise ConfigError(f"{where}: a meg source needs 'unit'")
        url = _resolve_url(base, str(raw["url"]))
        scheme = urlparse(url).scheme
        if scheme not in ("sftp", "file"):
            raise ConfigError(f"{where}: url scheme must be sftp:// or file://, not {scheme!r}")
        if scheme == "sftp" and not raw.get("host_key"):
            raise ConfigError(f"{where}: an sftp:// source needs a pinned 'host_key'")
        sources.append(
            SourceConfig(
                name=str(raw["name"]),
                kind=raw["kind"],
                url=url,
                unit=raw.get("unit"),
                host_key=raw.get("host_key"),
                key_file=_resolve(base, raw["key_file"]) if raw.get("key_file") else None,
                connect_timeout=float(raw.get("connect_timeout", 15.0)),
                retries=int(raw.get("retries", 3)),
            )
        )
    landing = _resolve(base, str(data["landing_dir"]))
    return Config(
        path=path,
        warehouse=_resolve_warehouse(base, str(data["warehouse"])),
        landing_dir=landing,
        person_key_secret_env=str(data["person_key_secret_env"]),
        sources=tuple(sources),
        max_file_bytes=int(data.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)),
        file_shards=_non_negative(path, "file_shards", data.get("file_shards", 0)),
        work_dir=_resolve(base, data["work_dir"]) if data.get("work_dir") else landing.parent / "work",
        report_dir=(
            _resolve(base, data["report_dir"]) if data.get("report_dir") else landing.parent / "reports"
        ),
        reference_units=_resolve(base, data["reference_units"]) if data.get("reference_units") else None,
    )


def load_config(path: str | Path) -> Config:
    path = Path(path).resolve()
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, path)
