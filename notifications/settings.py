"""Channel settings from the environment (CCHC_SMTP_*, CCHC_ZALO_*, CCHC_ZNS_*).

Why separate from the engine's settings: channels are usable (and testable) on their own, and
tests or staging point them at a local server just by setting the base URLs / host. Secrets
are `SecretStr` so they never show in a repr or a log line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CCHC_SMTP_", env_file=".env", extra="ignore", populate_by_name=True
    )

    host: str = "localhost"
    port: int = 25
    sender: str = Field(default="cchc@localhost", validation_alias="CCHC_SMTP_FROM")
    sender_name: str = "Hệ thống CCHC"
    username: str | None = None
    password: SecretStr | None = None
    security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none: plain; starttls: explicit STARTTLS; tls: implicit TLS"
    )
    timeout: float = Field(default=30.0, gt=0, description="seconds for the whole exchange")
    validate_certs: bool = True
    max_attachment_bytes: int = Field(
        default=10 * 1024 * 1024, ge=0,
        description="Attachments of one e-mail together at most this size (before base64); "
        "files beyond it are named in the text but not attached")


class ZaloSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CCHC_ZALO_", env_file=".env", extra="ignore", populate_by_name=True
    )

    api_base: str = "https://openapi.zalo.me"
    zns_api_base: str = Field(
        default="https://business.openapi.zalo.me", validation_alias="CCHC_ZNS_API_BASE"
    )
    oauth_base: str = "https://oauth.zaloapp.com"
    app_id: str | None = None
    secret_key: SecretStr | None = None
    oa_id: str = "default"
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    zns_template_id: str | None = None
    oa_message_kind: Literal["cs", "transaction"] = "transaction"
    timeout: float = Field(default=15.0, gt=0)

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.secret_key and (self.access_token or self.refresh_token))


DEMO_BASE_URL = "http://127.0.0.1:8000"


class LinkSettings(BaseSettings):
    """`CCHC_WEB_BASE_URL`: the public address of the web app, the base of every link in a
    reminder (e-mail, ZNS `link`, Zalo button). The same variable `web.settings` reads."""

    model_config = SettingsConfigDict(env_prefix="CCHC_WEB_", env_file=".env", extra="ignore")

    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")) or "://" not in value[:9] or \
                len(value.split("://", 1)[1]) == 0:
            raise ValueError(
                f"CCHC_WEB_BASE_URL '{value}' phải là địa chỉ tuyệt đối bắt đầu bằng https:// "
                "hoặc http:// / must be an absolute http(s) URL")
        return value
