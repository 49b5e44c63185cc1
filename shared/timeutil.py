"""Time: UTC in storage, Asia/Shanghai for business days (GLOSSARY.md, "Money, points, time")."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def local_day(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware ``moment``, whatever the server's time zone."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: an offset is required")
    return moment.astimezone(SHANGHAI).date()


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def day_start(day: date) -> datetime:
    """The aware instant at which the Asia/Shanghai ``day`` begins."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
