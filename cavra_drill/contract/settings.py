"""CAVRA's environment settings and how CAVRA reads them (contract §1)."""

from __future__ import annotations

from collections.abc import Mapping

MODES = ("disabled", "shadow", "enforce", "promoted")

ENV_MODE = "CAVRA_GO_BACKEND_MODE"
ENV_PLAN = "CAVRA_GO_ROLLBACK_PLAN"
ENV_REHEARSAL = "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE"
ENV_HISTORY = "CAVRA_GO_ROLLBACK_DRILL_HISTORY"
ENV_SCHEDULE = "CAVRA_GO_ROLLBACK_DRILL_SCHEDULE"
ENV_MAX_AGE_DAYS = "CAVRA_GO_ROLLBACK_DRILL_MAX_AGE_DAYS"
ENV_DUE_SOON_DAYS = "CAVRA_GO_ROLLBACK_DRILL_DUE_SOON_DAYS"
ENV_RUNTIME_PATH = "CAVRA_GO_RUNTIME_PATH"
ENV_RUNTIME_POLICY = "CAVRA_GO_RUNTIME_POLICY"
ENV_RUNTIME_TIMEOUT = "CAVRA_GO_RUNTIME_TIMEOUT_SECONDS"

DEFAULT_MAX_AGE_DAYS = 90.0
DEFAULT_DUE_SOON_DAYS = 14.0
DEFAULT_RUNTIME_TIMEOUT_SECONDS = 5.0


def normalize_mode(raw: str | None) -> str:
    """Trimmed and lower-cased; empty or unknown values mean `disabled`, as in CAVRA."""
    value = (raw or "").strip().lower()
    return value if value in MODES else "disabled"


def parse_float_setting(raw: str | None, default: float) -> float:
    """A float from the environment; unparseable (or unset) means the default.

    The value is returned as parsed, even when negative or non-finite: CAVRA keeps it, and the
    rules that use it (a positive max age) then fail, which is the verdict CAVRA would give.
    """
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw.strip())
    except ValueError:
        return default


def setting_from(env: Mapping[str, str], name: str) -> str:
    """An environment setting as CAVRA sees a path: unset and blank both mean not configured."""
    return env.get(name, "").strip()
