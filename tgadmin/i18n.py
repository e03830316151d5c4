"""The buyer's language and how dates read in it: Portuguese (pt-BR) by default, English for buyers
whose Telegram language is English (`en`, `en-US`, ...). Each domain keeps its own texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

Language = Literal["pt", "en"]

# Brazil has kept no daylight saving time since 2019: Brasília time is UTC-3 all year.
BRASILIA = timezone(timedelta(hours=-3), "BRT")

# Not strftime's %B: that follows the process's locale.
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def language(code: str | None) -> Language:
    return "en" if (code or "").lower().startswith("en") else "pt"


def buyer_language(preferred: str | None, code: str | None) -> Language:
    """The buyer's language: the one they chose (`telegram_users.preferred_language`, set on first
    contact and by /language), else what Telegram says they speak. Every buyer text asks this."""
    if preferred == "en":
        return "en"
    if preferred == "pt":
        return "pt"
    return language(code)


def format_date(moment: datetime, lang: Language) -> str:
    if lang == "en":
        utc = moment.astimezone(UTC)
        return f"{MONTHS[utc.month - 1]} {utc.day}, {utc.year} at {utc:%H:%M} UTC"
    return moment.astimezone(BRASILIA).strftime("%d/%m/%Y às %H:%M (horário de Brasília)")
