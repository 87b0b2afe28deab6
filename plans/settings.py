"""Settings of the data-file loader from the environment (CCHC_MAX_DATA_FILE_BYTES).

Why here and not in the engine's settings: `plans` is data and schemas and imports nothing from
the engine; the loader's own limit lives with the loader (the engine, the CLI and the web app
all read files through it).
"""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DataFileSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCHC_", env_file=".env", extra="ignore")

    max_data_file_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="Largest YAML data file (plan, units, people, …) read or uploaded",
    )


@cache
def get_data_file_settings() -> DataFileSettings:
    return DataFileSettings()
