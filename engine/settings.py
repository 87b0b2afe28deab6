"""Settings from the environment (CCHC_*), FastAPI-style with pydantic-settings."""

from __future__ import annotations

from functools import cache
from typing import Literal

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
    max_text_chars: int = Field(
        default=10_000, ge=100,
        description="Longest free text (result, note, reason): the same for web forms, the API "
                    "and the command line",
    )
    upload_quota_user_day_bytes: int = Field(
        default=100 * 1024 * 1024, ge=0,
        description="Evidence files one person may upload in 24 hours (0: no limit)",
    )
    upload_quota_unit_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024, ge=0,
        description="Evidence files stored for one unit in all (0: no limit)",
    )
    max_data_file_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="Largest YAML data file (plan, units, people, …) read or uploaded",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Level of long-running commands' logs (engine.logging_setup)"
    )
    log_json: bool = Field(
        default=False, description="Log one JSON object per line instead of text lines"
    )


@cache
def get_settings() -> Settings:
    return Settings()
