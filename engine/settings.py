"""Settings from the environment (CCHC_*), FastAPI-style with pydantic-settings."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCHC_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./cchc.sqlite3",
        description="SQLAlchemy URL; SQLite file by default, postgresql://… for many instances",
    )
    timezone: str = "Asia/Ho_Chi_Minh"
    report_cutoff_day: int = Field(
        default=14, ge=1, le=31,
        description="National default: quarters end on the 14th (Nghị định 09/2019/NĐ-CP)",
    )
    max_data_file_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="Largest YAML data file (plan, units, people, …) read or uploaded",
    )


@cache
def get_settings() -> Settings:
    return Settings()
