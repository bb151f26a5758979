"""Timestamps and ages the way CAVRA reads them (contract §5, §6)."""

from __future__ import annotations

from datetime import UTC, datetime

SECONDS_PER_DAY = 86_400.0


def parse_timestamp(value: object) -> datetime | None:
    """ISO-8601 into an aware UTC datetime, or None when it does not parse.

    A trailing `Z` means UTC; no zone is taken as UTC; a date alone is midnight UTC.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # e.g. 9999-12-31T23:00:00-05:00 is after the last moment a datetime can hold in UTC.
        return None


def days_between(earlier: datetime, later: datetime) -> float:
    """(later - earlier) in days, rounded to 4 decimals as CAVRA rounds ages and due dates."""
    return round((later - earlier).total_seconds() / SECONDS_PER_DAY, 4)


def format_utc(moment: datetime) -> str:
    """Normalised UTC ISO-8601 as CAVRA echoes it, e.g. `2099-02-01T00:00:00+00:00`."""
    return moment.astimezone(UTC).isoformat()


def format_zulu(moment: datetime) -> str:
    """UTC with microseconds and a `Z`, the form cavra-drill writes for `executed_at`.

    Microseconds, because CAVRA picks the latest drill by `executed_at` and, on a tie, the one
    earlier in the list: with whole seconds, a failing drill followed within the same second
    by a passing one would still be "the latest".
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
