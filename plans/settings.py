"""Settings of the data-file loader from the environment (CCHC_MAX_DATA_FILE_BYTES,
CCHC_DATA_CACHE, CCHC_DATA_CACHE_DIR).

Why here and not in the engine's settings: `plans` is data and schemas and imports nothing from
the engine; the loader's own limit lives with the loader (the engine, the CLI and the web app
all read files through it).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_cache_dir() -> Path | None:
    """`$XDG_CACHE_HOME/cchc/data`, else `~/.cache/cchc/data` (the XDG base directories);
    None when neither is known (a service account without a home: no cache)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no password entry
            return None
    return Path(base) / "cchc" / "data"


class DataFileSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCHC_", env_file=".env", extra="ignore")

    max_data_file_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="Largest YAML data file (plan, units, people, …) read or uploaded",
    )
    data_cache: bool = Field(
        default=True,
        description="Keep each data file's parsed content by the hash of its text "
                    "(plans/data_cache.py): the next command skips YAML",
    )
    data_cache_dir: Path | None = Field(
        default_factory=default_cache_dir,
        description="Where the parsed data files are kept (none without a home folder)",
    )


@cache
def get_data_file_settings() -> DataFileSettings:
    return DataFileSettings()
