"""The configuration as the pipeline reads it: the file (deflect.core.config) checked against
the source kinds the adapters know, each problem naming its key.

Every entry point (the `deflect` command, the DAGs, replay and backfill) loads the configuration
through here; deflect.core.config alone knows nothing of kinds.
"""
from __future__ import annotations

from pathlib import Path

from adapters.registry import ADAPTERS
from deflect.core.config import Config, ConfigError
from deflect.core.config import load_config as _load_file


def check_sources(config: Config) -> Config:
    """Every source's kind is known and the source has what its kind needs."""
    for i, source in enumerate(config.sources):
        where = f"{config.path}: sources[{i}]"
        adapter = ADAPTERS.get(source.kind)
        if adapter is None:
            raise ConfigError(f"{where}.kind: must be one of {', '.join(ADAPTERS)}, "
                              f"not {source.kind!r}")
        for key, problem in adapter.check_source(source):
            raise ConfigError(f"{where}.{key}: {problem}")
    return config


def load_config(path: str | Path) -> Config:
    return check_sources(_load_file(path))
