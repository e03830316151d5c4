from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.crypto import EncryptedString
from tgadmin.models.base import Base, IdMixin, TimestampMixin


class AppSetting(TimestampMixin, Base):
    """Operator-editable settings (payment methods offered, default cooldowns...), by key."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[dict[str, Any]]


class PaymentProviderConfig(IdMixin, TimestampMixin, Base):
    """Credentials of a PSP, entered from the Settings page; stored encrypted (JSON text)."""

    __tablename__ = "payment_provider_configs"

    provider: Mapped[str] = mapped_column(unique=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    credentials: Mapped[str] = mapped_column(EncryptedString())
