"""Settings in the JSON API. Tokens and PSP secrets only ever leave masked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tgadmin.config import PixProviderName

Source = Literal["database", "environment", "default"]
Text = Annotated[str, Field(max_length=500)]


class WebhookRead(BaseModel):
    mode: Literal["webhook", "polling", "unknown"]
    url: str | None
    pending_updates: int
    last_error: str | None
    last_error_at: datetime | None
    problem: str | None = Field(description="why the state could not be read, if it could not")


class BotRead(BaseModel):
    id: int
    username: str
    telegram_id: int
    token: str = Field(description="masked: enough to recognise it, never the token")
    webhook: WebhookRead | None = None


class BotAdd(BaseModel):
    token: str = Field(min_length=1, max_length=200, description="as BotFather gives it")


class PaymentMethods(BaseModel):
    pix: bool
    stars: bool


class PixCredentials(BaseModel):
    """The fields the chosen provider uses (apipix: URL, client id and secret, key; mercadopago: access
    token; static: key, name and city). A secret left out keeps the saved one."""

    pix_api_url: Text | None = None
    pix_token_url: Text | None = None
    pix_client_id: Text | None = None
    pix_client_secret: Text | None = None
    pix_key: Text | None = None
    pix_webhook_secret: Text | None = None
    pix_merchant_name: Text | None = None
    pix_merchant_city: Text | None = None
    mercadopago_access_token: Text | None = None
    mercadopago_webhook_secret: Text | None = None
    mercadopago_payer_email: Text | None = None

    def submitted(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


class PixUpdate(BaseModel):
    provider: PixProviderName
    expires_minutes: int = Field(ge=1, le=1440)
    credentials: PixCredentials = Field(default_factory=PixCredentials)


class Sourced(BaseModel):
    value: str | int
    source: Source


class PaymentsRead(BaseModel):
    methods: PaymentMethods
    methods_source: Source
    provider: Sourced
    expires_minutes: Sourced
    credentials: dict[str, dict[str, str]] = Field(description="saved, per provider, secrets masked")


class PixSaved(BaseModel):
    message: str
    payments: PaymentsRead


class LimitsUpdate(BaseModel):
    bot_per_second: int = Field(ge=1, le=30)
    group_per_minute: int = Field(ge=1, le=20)
    group_cooldown_seconds: int = Field(ge=0, le=86_400)


class LimitsRead(LimitsUpdate):
    private_per_second: int = Field(description="from the environment; Telegram allows no more")
    source: Source
    read_by_gateway: bool = Field(description="true: processes started after a change use the saved rates")


class SettingsRead(BaseModel):
    bots: list[BotRead]
    payments: PaymentsRead
    limits: LimitsRead
