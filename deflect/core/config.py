"""The configuration file of operations.md (YAML), declared as pydantic models.

Relative paths are relative to the file. Unknown keys, values of the wrong type and missing keys
are errors that name the key (`sources[2].max_file_bytes: ...`). Secrets are never in the file:
the person-key secret is read from the environment variable it names, and SFTP private keys are
files referred to by path. Which source kinds exist is not known here: the adapters say
(deflect.configuration checks each source against its kind).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlparse

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

DEFAULT_MAX_FILE_BYTES = 2 * 1024**3
# A source name becomes a directory name (landing, work, reports): no separators, no dot first.
SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
CONN_ID = re.compile(r"[A-Za-z0-9_]{1,250}")


class ConfigError(ValueError):
    """A configuration problem, with the file and the key it concerns."""


_FROZEN = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _base(info: ValidationInfo) -> Path:
    return (info.context or {}).get("base", Path.cwd())


def _resolve(base: Path, value: str | Path) -> Path:
    p = Path(os.path.expanduser(str(value)))
    return p if p.is_absolute() else (base / p).resolve()


class SourceConfig(BaseModel):
    model_config = _FROZEN

    name: str
    kind: str  # an adapter's kind (adapters/registry.py)
    url: str
    unit: str | None = None  # the MEG unit a meg source delivers for
    host_key: str | None = None  # "ssh-ed25519 AAAA..." pinned; required for sftp://
    key_file: Path | None = None
    # An Airflow connection giving host, port, login, host key and private key (resolved when
    # the source is opened, ingestion/connections.py); `url` then names the directory only.
    conn_id: str | None = None
    connect_timeout: Annotated[float, Field(gt=0)] = 15.0
    retries: Annotated[StrictInt, Field(ge=0)] = 3

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SOURCE_NAME.fullmatch(value):
            raise ValueError("a source name is 1-64 letters, digits, '-' or '_', starting with a "
                             f"letter or digit (it names directories), not {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        value = _resolve_url(_base(info), value)
        scheme = urlparse(value).scheme
        if scheme not in ("sftp", "file"):
            raise ValueError(f"url scheme must be sftp:// or file://, not {scheme!r}")
        return value

    @field_validator("key_file", mode="before")
    @classmethod
    def _key_file(cls, value, info: ValidationInfo):
        return None if value in (None, "") else _resolve(_base(info), value)

    @field_validator("conn_id")
    @classmethod
    def _conn_id(cls, value: str | None) -> str | None:
        # it becomes an environment variable name (AIRFLOW_CONN_<CONN_ID>) outside Airflow
        if value is not None and not CONN_ID.fullmatch(value):
            raise ValueError("a conn_id is 1-250 letters, digits or '_', not " + repr(value))
        return value

    @model_validator(mode="after")
    def _pinned(self) -> SourceConfig:
        if self.conn_id:
            # one place for the server and its credentials: the connection
            if self.scheme != "sftp":
                raise ValueError("'conn_id' is for sftp:// sources")
            if urlparse(self.url).netloc:
                raise ValueError("with 'conn_id' the url names the remote directory only "
                                 "(sftp:///path): host, port and login come from the connection")
            if self.host_key or self.key_file:
                raise ValueError("with 'conn_id' the host key and private key come from the "
                                 "connection: remove 'host_key' and 'key_file'")
            return self
        if self.scheme == "sftp" and not self.host_key:
            raise ValueError("an sftp:// source needs a pinned 'host_key' (or a 'conn_id')")
        return self

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


class Config(BaseModel):
    model_config = _FROZEN

    path: Path
    warehouse: str
    landing_dir: Path
    person_key_secret_env: str
    sources: tuple[SourceConfig, ...]
    max_file_bytes: Annotated[StrictInt, Field(ge=0)] = DEFAULT_MAX_FILE_BYTES
    # processes that check one large file together (ingestion/shards.py); 0: one per core
    file_shards: Annotated[StrictInt, Field(ge=0)] = 0
    # what checking one file may cost before it is quarantined (F09) and the night goes on
    file_timeout_s: Annotated[float, Field(gt=0)] = 3600.0
    file_memory_mb: Annotated[StrictInt, Field(gt=0)] = 256
    work_dir: Path | None = None  # default: beside landing_dir
    report_dir: Path | None = None  # default: beside landing_dir
    reference_units: Path | None = None
    # units' contacts for stewards (ContactsFile below); read by stewardship.contacts, never
    # stored in the warehouse
    contacts_file: Path | None = None
    # publication.md: the derivable interval every suppressed published cell must keep, the days
    # after a quarter closes before its first vintage, and where vintages are written as files
    protection_width: Annotated[StrictInt, Field(ge=1)] = 5
    statutory_lag_days: Annotated[StrictInt, Field(ge=0)] = 45
    publish_dir: Path | None = None  # default: beside landing_dir

    @field_validator("warehouse")
    @classmethod
    def _warehouse(cls, value: str, info: ValidationInfo) -> str:
        return _resolve_warehouse(_base(info), value)

    @field_validator("landing_dir", "work_dir", "report_dir", "reference_units", "contacts_file",
                     "publish_dir",
                     mode="before")
    @classmethod
    def _paths(cls, value, info: ValidationInfo):
        return None if value in (None, "") else _resolve(_base(info), value)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
        seen = set()
        for s in value:
            if s.name in seen:
                raise ValueError(f"duplicate source name {s.name!r}")
            seen.add(s.name)
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Config:
        # frozen: defaults that depend on another field are set once, here
        if self.work_dir is None:
            object.__setattr__(self, "work_dir", self.landing_dir.parent / "work")
        if self.report_dir is None:
            object.__setattr__(self, "report_dir", self.landing_dir.parent / "reports")
        if self.publish_dir is None:
            object.__setattr__(self, "publish_dir", self.landing_dir.parent / "published")
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def with_sources(self, sources) -> Config:
        return self.model_copy(update={"sources": tuple(sources)})

    def person_key_secret(self) -> bytes:
        value = os.environ.get(self.person_key_secret_env)
        if not value:
            raise ConfigError(
                f"{self.path}: the person-key secret variable {self.person_key_secret_env} is not set"
            )
        return value.encode("utf-8")


class Contact(BaseModel):
    """Whom a steward asks about a unit's files: one entry of the contacts file."""

    model_config = _FROZEN

    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None  # "records clerk", "TraCS export operator", ...

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value


class ContactsFile(BaseModel):
    """The contacts file (`contacts_file` in the configuration), YAML:

        units:
          SIEG: {name: "Records desk", email: records@sieg.example, phone: "+1 217 555 0100"}
          ISP:  {name: "TraCS export operator", email: tracs@isp.example}

    Unit codes are those of the unit reference (`ISP` for the State Police's TraCS sources)."""

    model_config = _FROZEN

    units: dict[str, Contact]

    @field_validator("units")
    @classmethod
    def _codes(cls, value: dict[str, Contact]) -> dict[str, Contact]:
        upper = {}
        for code, contact in value.items():
            key = str(code).strip().upper()
            if not re.fullmatch(r"[A-Z0-9_-]{1,32}", key):
                raise ValueError(f"not a unit code: {code!r}")
            if key in upper:
                raise ValueError(f"unit {key} is listed twice")
            upper[key] = contact
        return upper


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


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        key = _where(err["loc"])
        if err["type"] == "extra_forbidden":
            text = f"unknown key {err['loc'][-1]!r}"
            key = _where(err["loc"][:-1])
        elif err["type"] == "missing":
            text = f"missing key {err['loc'][-1]!r}"
            key = _where(err["loc"][:-1])
        else:
            text = err["msg"].removeprefix("Value error, ")
            if "input" in err and not isinstance(err["input"], dict | list):
                text += f" (got {err['input']!r})"
        lines.append(f"{path}: {key + ': ' if key else ''}{text}")
    return "; ".join(lines)


def parse_config(data, path: Path) -> Config:
    """The configuration from the file's mapping; `path` is the file (relative paths start at
    its folder)."""
    path = Path(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    if "path" in data:
        raise ConfigError(f"{path}: unknown key 'path'")
    try:
        return Config.model_validate({**data, "path": path}, context={"base": path.parent})
    except ValidationError as exc:
        raise ConfigError(_message(path, exc)) from None


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
