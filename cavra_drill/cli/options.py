"""Command-line settings resolved as flags > CAVRA_* environment > defaults."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cavra_drill.contract import settings as cs
from cavra_drill.contract.documents import Document
from cavra_drill.contract.reports import Judgements, judge_all
from cavra_drill.contract.timestamps import format_utc, parse_timestamp
from cavra_drill.errors import UsageError
from cavra_drill.store.documents import read_document


@dataclass(frozen=True)
class ReadinessSettings:
    mode: str
    plan: str
    rehearsal: str
    history: str
    schedule: str
    max_age_days: float
    due_soon_days: float
    now: datetime

    def judge(self, *, documents: Mapping[str, Document] | None = None) -> Judgements:
        """Read the four files (or use `documents` given by name) and judge them as CAVRA does."""
        given = documents or {}

        def doc(name: str, path: str) -> Document:
            return given[name] if name in given else read_document(path)

        return judge_all(
            mode=self.mode,
            now=self.now,
            plan=doc("plan", self.plan),
            rehearsal=doc("rehearsal", self.rehearsal),
            history=doc("history", self.history),
            schedule=doc("schedule", self.schedule),
            max_age_days=self.max_age_days,
            due_soon_days=self.due_soon_days,
        )

    @property
    def as_of(self) -> str:
        return format_utc(self.now)


def parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    parsed = parse_timestamp(text)
    if parsed is None:
        raise UsageError(f"--now: {text!r} is not an ISO-8601 timestamp (e.g. 2026-11-29T12:00:00Z)")
    return parsed


def parse_days(flag: str | None, env_value: str | None, default: float, option: str) -> float:
    """A flag must be a non-negative number (usage error otherwise); the environment is read as CAVRA reads it."""
    if flag is None:
        return cs.parse_float_setting(env_value, default)
    try:
        value = float(flag)
    except ValueError:
        raise UsageError(f"{option}: {flag!r} is not a number of days") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{option}: must be a non-negative number of days, not {flag!r}")
    return value


def resolve_readiness(
    *,
    mode: str | None,
    plan: str | None,
    rehearsal: str | None,
    history: str | None,
    schedule: str | None,
    max_age_days: str | None,
    due_soon_days: str | None,
    now: str | None,
    env: Mapping[str, str] | None = None,
) -> ReadinessSettings:
    environ = os.environ if env is None else env

    def path(flag: str | None, name: str) -> str:
        return flag.strip() if flag is not None else cs.setting_from(environ, name)

    return ReadinessSettings(
        mode=cs.normalize_mode(mode if mode is not None else environ.get(cs.ENV_MODE)),
        plan=path(plan, cs.ENV_PLAN),
        rehearsal=path(rehearsal, cs.ENV_REHEARSAL),
        history=path(history, cs.ENV_HISTORY),
        schedule=path(schedule, cs.ENV_SCHEDULE),
        max_age_days=parse_days(
            max_age_days,
            environ.get(cs.ENV_MAX_AGE_DAYS),
            cs.DEFAULT_MAX_AGE_DAYS,
            "--max-age-days",
        ),
        due_soon_days=parse_days(
            due_soon_days,
            environ.get(cs.ENV_DUE_SOON_DAYS),
            cs.DEFAULT_DUE_SOON_DAYS,
            "--due-soon-days",
        ),
        now=parse_now(now),
    )
