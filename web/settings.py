"""Web settings from the environment (CCHC_WEB_*), like the engine's `Settings` (CCHC_*)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.directory import LoginLimits


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCHC_WEB_", env_file=".env", extra="ignore")

    session_lifetime_minutes: int = Field(
        default=720, ge=5,
        description="A session ends after this long without a request (sliding expiry)",
    )
    session_max_hours: int = Field(
        default=24, ge=1,
        description="A session ends this long after the login, however busy (absolute expiry)",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-Proto is "
                    "believed (https there means cookies get Secure and HSTS is sent)",
    )
    cookie_secure: bool = Field(
        default=False,
        description="Send cookies over HTTPS only; set True whenever the app is served on HTTPS",
    )
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024,
        description="Largest uploaded file (evidence PDF); a request body may be 64 KiB more",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins allowed per username and address …")
    login_window_minutes: int = Field(default=15, ge=1, description="… in this many minutes")
    login_max_failures_per_address: int = Field(
        default=30, ge=1, description="Failed logins allowed per address, any username")
    login_max_failures_per_password: int = Field(
        default=10, ge=1, description="Failed logins allowed with one password, any username")
    login_max_failures_global: int = Field(
        default=500, ge=1, description="Failed logins allowed on the whole server")
    login_max_concurrent_hashes: int = Field(
        default=2, ge=1, description="Password hashes checked at once (64 MiB each)")
    login_hash_wait_seconds: float = Field(
        default=5.0, ge=0, description="How long a login waits for a free hash slot (then 503)")
    threads: int = Field(
        default=4, ge=1, le=64,
        description="Threads running the (synchronous) page and API handlers per worker "
                    "process: few, since they share one interpreter lock",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the app, for links in reminders and e-mails",
    )

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(minutes=self.session_lifetime_minutes)

    @property
    def session_absolute(self) -> timedelta:
        return timedelta(hours=self.session_max_hours)

    @property
    def trusted_proxy_set(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def login_window(self) -> timedelta:
        return timedelta(minutes=self.login_window_minutes)

    @property
    def login_limits(self) -> LoginLimits:
        return LoginLimits(
            max_failures=self.login_max_failures, window=self.login_window,
            per_address=self.login_max_failures_per_address,
            per_password=self.login_max_failures_per_password,
            global_max=self.login_max_failures_global,
            concurrent=self.login_max_concurrent_hashes, wait_seconds=self.login_hash_wait_seconds)

    @property
    def max_request_bytes(self) -> int:
        """The body limit the app enforces: one file plus the form's other fields."""
        return self.max_upload_bytes + 64 * 1024

    def link(self, path: str) -> str:
        """An absolute link for a reminder: `link('/tasks/vinh-thanh/cchc-2023/7')`."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


@cache
def get_web_settings() -> WebSettings:
    return WebSettings()
