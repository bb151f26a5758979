"""Building report pages in-process from CAVRA's samples, as `cavra-drill report` builds them."""

from __future__ import annotations

from typing import Any

import cavra_samples as samples

from cavra_drill.contract.documents import Document, not_configured
from cavra_drill.contract.reports import Judgements, judge_all, production_report
from cavra_drill.formats.html_report import ReportPage, render_html_report
from cavra_drill.formats.recovery_chart import CHART_LIMIT, collect_drills

_UNSET: Any = object()


def judge(
    *,
    mode: str = "promoted",
    plan: Any = _UNSET,
    rehearsal: Any = _UNSET,
    history: Any = _UNSET,
    schedule: Any = _UNSET,
) -> Judgements:
    """Judge the samples (or the given values; a Document is used as it is, None is not configured)."""

    def doc(value: Any, default: Any, path: str) -> Document:
        if value is None:
            return not_configured()
        if isinstance(value, Document):
            return value
        return samples.document(default() if value is _UNSET else value, path)

    return judge_all(
        mode=mode,
        now=samples.NOW,
        plan=doc(plan, samples.plan, "plan.json"),
        rehearsal=doc(rehearsal, samples.rehearsal, "rehearsal.json"),
        history=doc(history, samples.history, "drills.json"),
        schedule=doc(schedule, samples.schedule, "schedule.json"),
        max_age_days=90.0,
        due_soon_days=14.0,
    )


def page_of(judgements: Judgements, *, limit: int = CHART_LIMIT) -> ReportPage:
    return ReportPage(
        production=production_report(judgements),
        failures=judgements.failures(),
        series=collect_drills(judgements.history, limit=limit),
        as_of=samples.zulu(samples.NOW),
        version="0.0.0-test",
    )


def render(**files: Any) -> str:
    return render_html_report(page_of(judge(**files)))
