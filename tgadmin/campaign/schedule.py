"""When a repeating campaign's next occurrence is due: every N hours, or daily at a time of day in
the operator's time zone (so "daily at 20:00" stays 20:00 there whatever UTC says)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from tgadmin.clock import ensure_utc, zone


def next_every(previous: datetime, hours: int, now: datetime) -> datetime:
    """`previous` + N hours, skipping the occurrences a stopped worker missed (no burst of catch-ups)."""
    step = timedelta(hours=hours)
    following = ensure_utc(previous) + step
    if following <= now:
        following += step * ((now - following) // step + 1)
    return following


def next_daily(previous: datetime, at: str, zone_name: str, now: datetime) -> datetime:
    """The first HH:MM in the zone after both `previous` and `now`."""
    tz = zone(zone_name)
    hour, minute = (int(part) for part in at.split(":"))
    after = max(ensure_utc(previous), now).astimezone(tz)
    day = after.date()
    while True:
        candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if candidate > after:
            return ensure_utc(candidate)
        day += timedelta(days=1)


def interval_hours(every_hours: int | None, daily_at: str | None) -> int | None:
    """How far apart the occurrences are (a daily one: 24 hours)."""
    if every_hours is not None:
        return every_hours
    return 24 if daily_at is not None else None
