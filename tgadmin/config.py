"""Settings: the environment, then `.env`, then `.env.local` (later files override earlier ones).

`tgadmin dev` writes generated secrets to `var/secrets.env`, read first, so the embedded defaults
need no hand-written configuration. A missing or malformed setting is reported as one line
naming it (`ConfigError`), never as a traceback.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tgadmin.errors import ConfigError

VAR_DIR = Path("var")
SECRETS_FILE = VAR_DIR / "secrets.env"
TELEGRAM_API = "https://api.telegram.org"

PositiveInt = Annotated[int, Field(gt=0)]


class PixProviderName(StrEnum):
    SANDBOX = "sandbox"
    STATIC = "static"
    APIPIX = "apipix"
    MERCADOPAGO = "mercadopago"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=(SECRETS_FILE, ".env", ".env.local"),
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    database_url: str = "sqlite+aiosqlite:///./var/tgadmin.db"
    redis_url: str | None = None
    redis_host: str | None = None
    redis_port: Annotated[int, Field(gt=0, lt=65536)] = 6379
    # Prefix for every Redis key and queue name: lets tests and several deployments share one server.
    redis_prefix: str = "tgadmin"

    session_secret: SecretStr | None = None
    magic_link_secret: SecretStr | None = None
    data_encryption_key: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(gt=0, lt=65536)] = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "tgadmin <no-reply@localhost>"
    smtp_starttls: bool = True

    # Login links asked for on /login, per window: per e-mail, per client address (IPv6: per /64).
    login_limit_per_email: PositiveInt = 5
    login_limit_per_address: PositiveInt = 20
    login_limit_window_seconds: PositiveInt = 900

    public_url: str = "http://127.0.0.1:3001"
    dashboard_port: Annotated[int, Field(gt=0, lt=65536)] = 3001
    bot_port: Annotated[int, Field(gt=0, lt=65536)] = 3002
    sandbox_port: Annotated[int, Field(gt=0, lt=65536)] = 8081

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API

    # Telegram's limits as the gateway enforces them; all configurable.
    tg_bot_per_second: PositiveInt = 30
    tg_group_per_minute: PositiveInt = 20
    tg_private_per_second: PositiveInt = 1

    media_dir: Path = VAR_DIR / "media"
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"

    pix_provider: PixProviderName = PixProviderName.SANDBOX
    pix_key: str | None = None
    pix_merchant_name: str = "TGADMIN"
    pix_merchant_city: str = "SAO PAULO"
    pix_expires_minutes: PositiveInt = 30
    # API Pix (Banco Central standard): OAuth2 client credentials over mTLS.
    pix_api_url: str | None = None
    pix_client_id: str | None = None
    pix_client_secret: SecretStr | None = None
    pix_cert_file: Path | None = None
    pix_key_file: Path | None = None
    pix_webhook_secret: SecretStr | None = None
    # OAuth2 token endpoint; PSPs differ, default `{PIX_API_URL}/oauth/token`.
    pix_token_url: str | None = None
    # CA bundle for PSPs whose server certificate is not signed by a public CA.
    pix_ca_file: Path | None = None
    # Mercado Pago
    mercadopago_access_token: SecretStr | None = None
    mercadopago_webhook_secret: SecretStr | None = None
    mercadopago_api_url: str = "https://api.mercadopago.com"
    # Mercado Pago requires a payer e-mail; Telegram buyers have none, so the shop's is used.
    mercadopago_payer_email: str | None = None

    worker_concurrency: PositiveInt = 10
    subscription_batch_size: PositiveInt = 50
    log_level: str = "INFO"
    # `json`: one JSON object a line (for a log collector); `text`: readable lines.
    log_format: LogFormat = LogFormat.TEXT
    # Bearer token a Prometheus scraper sends to `/metrics`; unset: only loopback clients may scrape.
    metrics_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if scheme not in {"postgresql+asyncpg", "sqlite+aiosqlite"}:
            raise ValueError("must start with postgresql+asyncpg:// or sqlite+aiosqlite:///")
        if scheme == "postgresql+asyncpg" and not urlsplit(value).hostname:
            raise ValueError("has no host")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"redis", "rediss", "unix"} or (parts.scheme != "unix" and not parts.hostname):
            raise ValueError("must look like redis://host:port/db")
        return value

    @field_validator("public_url", "telegram_api_base_url", "s3_endpoint", "pix_api_url", "pix_token_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("data_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        for key in value.get_secret_value().split(","):
            try:
                raw = base64.urlsafe_b64decode(key.strip().encode())
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise ValueError("must be url-safe base64 of 32 bytes (`tgadmin keys generate` makes one)")
        return value

    @field_validator("pix_merchant_name", "pix_merchant_city")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _s3_complete(self) -> Settings:
        if self.s3_endpoint or self.s3_bucket:
            missing = [
                name
                for name, val in (
                    ("S3_BUCKET", self.s3_bucket),
                    ("S3_ACCESS_KEY", self.s3_access_key),
                    ("S3_SECRET_KEY", self.s3_secret_key),
                )
                if not val
            ]
            if missing:
                raise ValueError(f"{missing[0]}: is required when S3_BUCKET or S3_ENDPOINT is set")
        return self

    @property
    def effective_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.redis_host:
            return f"redis://{self.redis_host}:{self.redis_port}/0"
        return None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_sandbox_telegram(self) -> bool:
        return self.telegram_api_base_url != TELEGRAM_API

    def require(self, *names: str) -> None:
        """Refuse to start a process that needs settings which are unset."""
        for name in names:
            value = getattr(self, name)
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
                raise ConfigError(f"{name.upper()}: is required but not set")


def require_webhook_secrets(settings: Settings) -> None:
    """Start-up check of the process that receives PSP webhooks: anonymous notifications are
    refused, so the configured provider's webhook secret must be set."""
    if settings.pix_provider in (PixProviderName.APIPIX, PixProviderName.SANDBOX):
        settings.require("pix_webhook_secret")
    elif settings.pix_provider == PixProviderName.MERCADOPAGO:
        settings.require("mercadopago_webhook_secret")


def _format_validation_error(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] in {"missing"}:
        message = "is required but not set"
    return f"{loc.upper()}: {message}" if loc else message


def load_settings(**overrides: Any) -> Settings:
    """Read settings; turn validation errors into one line naming the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
