"""Local time of the district (KITRUN_TIMEZONE) for pages and PDFs; UTC in the database and API.

Pages show dates and times in one of the named forms of `FORMATS`, always in the district's
zone (issue 17): a template writes `{{ at|local }}` or `{{ at|local("seconds") }}`, route code
calls `show(at, tz, "time")`; nothing formats its own. The API keeps UTC ISO 8601.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# The only forms a page shows a moment in (ISO order: unambiguous in Chinese and English).
FORMATS: dict[str, str] = {
    "date": "%Y-%m-%d",  # 2026-12-02
    "datetime": "%Y-%m-%d %H:%M",  # 2026-12-02 14:05
    "time": "%H:%M",  # 14:05
    "seconds": "%Y-%m-%d %H:%M:%S",  # 2026-12-02 14:05:09, where seconds matter (logs)
}


def zone(name: str | ZoneInfo | None) -> ZoneInfo:
    if isinstance(name, ZoneInfo):
        return name
    return ZoneInfo(name or "UTC")


def from_form(value: str, tz: str) -> datetime:
    """A `datetime-local` form value (naive, the district's local time) → aware UTC."""
    naive = datetime.fromisoformat(value.strip())
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=zone(tz))
    return naive.astimezone(UTC)


def to_local(value: datetime | None, tz: str | ZoneInfo | None) -> datetime | None:
    """A moment in the district's zone; a naive value (as SQLite returns it) is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(tz))


def show(
    value: datetime | date | str | None, tz: str | ZoneInfo | None, form: str = "datetime"
) -> str:
    """A moment in one of the named `FORMATS`, in the district's zone ("" for none).

    A `date` (a birth date, an expiry, a run's day) is a calendar day: shown as it is, with no
    zone. A string is an ISO 8601 moment (as the API's answers carry them).
    """
    pattern = FORMATS[form]  # KeyError: only the named forms exist
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # a day (2026-12-02) stays a day; a moment is converted
        value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return value.strftime(FORMATS["date"])
    return to_local(value, tz).strftime(pattern)


def span(start: datetime, end: datetime, tz: str | ZoneInfo | None) -> str:
    """A slot: 2026-12-02 14:00–14:30, or both full moments when it crosses midnight."""
    a, b = to_local(start, tz), to_local(end, tz)
    tail = show(b, tz, "time") if a.date() == b.date() else show(b, tz)
    return f"{show(a, tz)}–{tail}"


def today(tz: str) -> date:
    """Today's date in the district."""
    return datetime.now(zone(tz)).date()
