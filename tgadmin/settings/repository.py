"""All SQL of the settings domain: `AppSetting` values by key, and PSP credentials."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import AppSetting, PaymentProviderConfig


async def value(session: AsyncSession, key: str) -> dict[str, Any] | None:
    row = await session.get(AppSetting, key, populate_existing=True)
    return None if row is None else dict(row.value)


async def store(session: AsyncSession, key: str, data: dict[str, Any]) -> None:
    row = await session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=data))
    else:
        row.value = data
    await session.flush()


async def provider_config(session: AsyncSession, provider: str) -> PaymentProviderConfig | None:
    return await session.scalar(
        select(PaymentProviderConfig).where(PaymentProviderConfig.provider == provider)
    )


async def provider_configs(session: AsyncSession) -> list[PaymentProviderConfig]:
    return list(
        (await session.scalars(select(PaymentProviderConfig).order_by(PaymentProviderConfig.provider))).all()
    )


async def store_provider_config(session: AsyncSession, provider: str, credentials: str) -> None:
    row = await provider_config(session, provider)
    if row is None:
        session.add(PaymentProviderConfig(provider=provider, credentials=credentials, is_enabled=True))
    else:
        row.credentials, row.is_enabled = credentials, True
    await session.flush()
