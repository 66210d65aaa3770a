"""Local time of the district (KITRUN_TIMEZONE) for pages and PDFs; UTC in the database and API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def from_form(value: str, tz: str) -> datetime:
    """A `datetime-local` form value (naive, the district's local time) → aware UTC."""
    naive = datetime.fromisoformat(value.strip())
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=zone(tz))
    return naive.astimezone(UTC)


def to_local(value: datetime | None, tz: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(tz))


def today(tz: str) -> date:
    """Today's date in the district."""
    return datetime.now(zone(tz)).date()
