"""Contract §8: the five reports, their keys, check ids and order, statuses and "requested" logic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import cavra_samples as samples
import pytest

from cavra_drill.contract.documents import Document
from cavra_drill.contract.reports import (
    REPORTS,
    Judgements,
    drill_history_report,
    judge_all,
    production_report,
    rehearsal_report,
    rollback_report,
    schedule_report,
)

NOW = samples.NOW
NOT_CONFIGURED = Document("", None, "metadata path is not configured")

ROLLBACK_IDS = [
    "go_rollback_requested",
    "python_fallback_available",
    "go_rollback_plan",
    "go_rollback_approval",
    "go_rollback_disable_path",
    "go_rollback_controls",
]
REHEARSAL_IDS = [
    "go_rollback_rehearsal_requested",
    "go_rollback_rehearsal_evidence",
    "go_rollback_rehearsal_simulated",
    "go_rollback_rehearsal_fallback_verified",
    "go_rollback_rehearsal_recovery_sla",
    "go_rollback_rehearsal_evidence_refs",
]
HISTORY_IDS = [
    "go_rollback_drill_history_requested",
    "go_rollback_drill_history_file",
    "go_rollback_drill_latest_passed",
    "go_rollback_drill_disabled_target",
    "go_rollback_drill_fallback_verified",
    "go_rollback_drill_recovery_sla",
    "go_rollback_drill_freshness",
]
SCHEDULE_IDS = [
    "go_rollback_drill_schedule_requested",
    "go_rollback_drill_schedule_file",
    "go_rollback_drill_schedule_active",
    "go_rollback_drill_schedule_cadence",
    "go_rollback_drill_schedule_next_due",
    "go_rollback_drill_schedule_not_stale",
    "go_rollback_drill_notification_routes",
]
PRODUCTION_IDS = [
    "go_backend_rollback_controls",
    "go_backend_rollback_rehearsal",
    "go_backend_rollback_drill_history",
    "go_backend_rollback_drill_schedule",
]
IDS = {
    "rollback": ROLLBACK_IDS,
    "rehearsal": REHEARSAL_IDS,
    "drills": HISTORY_IDS,
    "schedule": SCHEDULE_IDS,
    "production": PRODUCTION_IDS,
}

# The extras §8 lists for each check (a check may carry no fewer).
EXTRAS = {
    "go_rollback_requested": {"mode"},
    "go_rollback_plan": {"path", "rollback_schema"},
    "go_rollback_approval": {"approval_id"},
    "go_rollback_disable_path": {"target_mode"},
    "go_rollback_controls": {"missing_controls"},
    "go_rollback_rehearsal_requested": {"mode"},
    "go_rollback_rehearsal_evidence": {"path", "rehearsal_schema"},
    "go_rollback_rehearsal_recovery_sla": {"recovery_minutes", "max_recovery_minutes"},
    "go_rollback_rehearsal_evidence_refs": {"evidence_refs"},
    "go_rollback_drill_history_requested": {"mode"},
    "go_rollback_drill_history_file": {"path", "history_schema"},
    "go_rollback_drill_latest_passed": {"latest_drill_id"},
    "go_rollback_drill_disabled_target": {"target_mode"},
    "go_rollback_drill_recovery_sla": {"recovery_minutes", "max_recovery_minutes"},
    "go_rollback_drill_freshness": {"max_age_days", "age_days"},
    "go_rollback_drill_schedule_file": {"path", "schedule_schema"},
    "go_rollback_drill_schedule_cadence": {"interval_days"},
    "go_rollback_drill_schedule_next_due": {"next_due_at", "days_until_due"},
    "go_rollback_drill_schedule_not_stale": {"stale"},
    "go_rollback_drill_notification_routes": {"notification_providers", "owners"},
    "go_backend_rollback_controls": {"mode", "go_rollback_status"},
    "go_backend_rollback_rehearsal": {"mode", "go_rollback_rehearsal_status"},
    "go_backend_rollback_drill_history": {"mode", "go_rollback_drill_history_status"},
    "go_backend_rollback_drill_schedule": {"mode", "go_rollback_drill_schedule_status"},
}


def sample_documents() -> dict[str, Document]:
    """CAVRA's documented samples, with a fresh drill and a schedule due in the future."""
    return {
        "plan": samples.document(samples.plan(), "plan.json"),
        "rehearsal": samples.document(samples.rehearsal(), "rehearsal.json"),
        "history": samples.document(samples.history(), "drills.json"),
        "schedule": samples.document(samples.schedule(), "schedule.json"),
    }


def judgements(mode: str = "promoted", /, **documents: Document) -> Judgements:
    docs = {"plan": NOT_CONFIGURED, "rehearsal": NOT_CONFIGURED, "history": NOT_CONFIGURED, "schedule": NOT_CONFIGURED}
    docs.update(documents)
    return judge_all(mode=mode, now=NOW, max_age_days=90.0, due_soon_days=14.0, **docs)


def checks_of(report: dict[str, object]) -> list[dict[str, Any]]:
    checks = report["checks"]
    assert isinstance(checks, list)
    return checks


def check_by_id(report: dict[str, object], check_id: str) -> dict[str, Any]:
    return next(c for c in checks_of(report) if c["id"] == check_id)


def warned(report: dict[str, object]) -> list[str]:
    return [c["id"] for c in checks_of(report) if c["status"] != "pass"]


SCENARIOS: dict[str, Callable[[], Judgements]] = {
    "samples-promoted": lambda: judgements("promoted", **sample_documents()),
    "nothing-configured": lambda: judgements("disabled"),
    "promoted-nothing-configured": lambda: judgements("promoted"),
    "missing-files": lambda: judgements(
        "shadow",
        **{
            k: Document(f"{k}.json", None, "metadata file is missing")
            for k in ("plan", "rehearsal", "history", "schedule")
        },
    ),
    "garbage": lambda: judgements(
        "promoted",
        plan=samples.document({"controls": "abc", "approval": 3}, "p.json"),
        rehearsal=samples.document({"recovery_minutes": True, "evidence_refs": {}}, "r.json"),
        history=samples.document({"drills": [None, {"executed_at": 5}]}, "h.json"),
        schedule=samples.document({"owner_routes": 1, "next_due_at": []}, "s.json"),
    ),
}


# ---- the "Done when" -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(REPORTS))
def test_documented_samples_are_ready_in_promoted_mode(kind: str) -> None:
    report = REPORTS[kind](judgements("promoted", **sample_documents()))
    assert report["status"] == "ready", warned(report)
    assert warned(report) == []


@pytest.mark.parametrize("kind", ["rollback", "rehearsal", "drills", "schedule"])
def test_every_report_is_not_requested_without_configuration(kind: str) -> None:
    assert REPORTS[kind](judgements("disabled"))["status"] == "not_requested"


def test_production_readiness_is_ready_without_configuration() -> None:
    report = production_report(judgements("disabled"))
    assert report["status"] == "ready"
    assert [c["status"] for c in checks_of(report)] == ["pass"] * 4
    for key in (
        "go_backend_rollback",
        "go_backend_rollback_rehearsal",
        "go_backend_rollback_drill_history",
        "go_backend_rollback_drill_schedule",
    ):
        section = report[key]
        assert isinstance(section, dict)
        assert section["status"] == "not_requested"


# ---- ids, order, statuses ------------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("kind", list(REPORTS))
def test_check_ids_in_cavras_order(kind: str, scenario: str) -> None:
    report = REPORTS[kind](SCENARIOS[scenario]())
    assert [c["id"] for c in checks_of(report)] == IDS[kind]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("kind", list(REPORTS))
def test_check_statuses_are_only_pass_or_warn(kind: str, scenario: str) -> None:
    report = REPORTS[kind](SCENARIOS[scenario]())
    all_checks = list(checks_of(report))
    for value in report.values():
        if isinstance(value, dict) and "checks" in value:
            all_checks += checks_of(value)
    for item in all_checks:
        assert item["status"] in ("pass", "warn")
        assert isinstance(item["message"], str)
        assert item["message"]
        assert set(item) >= {"id", "status", "message"} | EXTRAS.get(item["id"], set())


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_report_statuses_are_cavras(scenario: str) -> None:
    j = SCENARIOS[scenario]()
    for kind in ("rollback", "rehearsal", "drills"):
        assert REPORTS[kind](j)["status"] in ("not_requested", "ready", "needs_attention")
    assert schedule_report(j)["status"] in ("not_requested", "due_soon", "ready", "needs_attention")
    assert production_report(j)["status"] in ("ready", "needs_attention")


# ---- keys ----------------------------------------------------------------------------------


def test_rollback_report_keys() -> None:
    report = rollback_report(judgements(**sample_documents()))
    assert list(report) == [
        "schema_version",
        "mode",
        "status",
        "rollback_plan_path",
        "checks",
        "rollback",
        "operator_notes",
    ]
    assert report["schema_version"] == "cavra.go-backend-pilot.rollback-readiness.v1"
    assert report["rollback_plan_path"] == "plan.json"


def test_rehearsal_report_keys() -> None:
    report = rehearsal_report(judgements(**sample_documents()))
    assert list(report) == [
        "schema_version",
        "mode",
        "status",
        "rollback_rehearsal_path",
        "checks",
        "rehearsal",
        "operator_notes",
    ]
    assert report["schema_version"] == "cavra.go-backend-pilot.rollback-rehearsal.v1"
    rehearsal = report["rehearsal"]
    assert isinstance(rehearsal, dict)
    assert list(rehearsal) == [
        "valid",
        "schema_version",
        "status",
        "plan_approval_id",
        "simulated",
        "fallback_verified",
        "recovery_sla_met",
        "recovery_minutes",
        "max_recovery_minutes",
        "evidence_refs",
        "runbook_ref",
        "message",
    ]


HISTORY_SUMMARY_KEYS = [
    "valid",
    "schema_version",
    "environment",
    "drill_count",
    "latest_drill_id",
    "latest_status",
    "latest_target_mode",
    "latest_executed_at",
    "age_days",
    "fresh",
    "fallback_verified",
    "recovery_sla_met",
    "recovery_minutes",
    "max_recovery_minutes",
    "runbook_ref",
    "evidence_refs",
    "message",
]


def test_history_report_keys() -> None:
    report = drill_history_report(judgements(**sample_documents()))
    assert list(report) == [
        "schema_version",
        "mode",
        "status",
        "rollback_drill_history_path",
        "rollback_drill_max_age_days",
        "checks",
        "history",
        "operator_notes",
    ]
    assert report["schema_version"] == "cavra.go-backend-pilot.rollback-drill-history.v1"
    assert report["rollback_drill_max_age_days"] == 90.0
    history = report["history"]
    assert isinstance(history, dict)
    assert list(history) == HISTORY_SUMMARY_KEYS


def test_schedule_report_keys() -> None:
    report = schedule_report(judgements(**sample_documents()))
    assert list(report) == [
        "schema_version",
        "mode",
        "status",
        "rollback_drill_schedule_path",
        "rollback_drill_due_soon_days",
        "checks",
        "schedule",
        "history",
        "operator_notes",
    ]
    assert report["schema_version"] == "cavra.go-backend-pilot.rollback-drill-schedule.v1"
    assert report["rollback_drill_due_soon_days"] == 14.0
    schedule, history = report["schedule"], report["history"]
    assert isinstance(schedule, dict)
    assert isinstance(history, dict)
    assert list(schedule) == [
        "valid",
        "schema_version",
        "schedule_id",
        "environment",
        "status",
        "interval_days",
        "next_due_at",
        "days_until_due",
        "stale",
        "due_soon",
        "owners",
        "notification_providers",
        "runbook_ref",
        "message",
    ]
    assert list(history) == HISTORY_SUMMARY_KEYS


def test_production_report_keys_and_sections() -> None:
    j = judgements(**sample_documents())
    report = production_report(j)
    assert list(report) == [
        "schema_version",
        "status",
        "checks",
        "go_backend_rollback",
        "go_backend_rollback_rehearsal",
        "go_backend_rollback_drill_history",
        "go_backend_rollback_drill_schedule",
    ]
    assert report["schema_version"] == "cavra.deployment.production_readiness.v1"
    assert report["go_backend_rollback"] == rollback_report(j)
    assert report["go_backend_rollback_rehearsal"] == rehearsal_report(j)
    assert report["go_backend_rollback_drill_history"] == drill_history_report(j)
    assert report["go_backend_rollback_drill_schedule"] == schedule_report(j)


def test_paths_echo_null_when_not_configured() -> None:
    j = judgements("promoted")
    assert rollback_report(j)["rollback_plan_path"] is None
    assert rehearsal_report(j)["rollback_rehearsal_path"] is None
    assert drill_history_report(j)["rollback_drill_history_path"] is None
    assert schedule_report(j)["rollback_drill_schedule_path"] is None


# ---- requested -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["disabled", "shadow", "enforce"])
@pytest.mark.parametrize(
    ("kind", "document_name", "requested_id"),
    [
        ("rollback", "plan", "go_rollback_requested"),
        ("rehearsal", "rehearsal", "go_rollback_rehearsal_requested"),
        ("drills", "history", "go_rollback_drill_history_requested"),
        ("schedule", "schedule", "go_rollback_drill_schedule_requested"),
    ],
)
def test_requested_by_own_path_in_any_mode(mode: str, kind: str, document_name: str, requested_id: str) -> None:
    own = judgements(mode, **{document_name: sample_documents()[document_name]})
    report = REPORTS[kind](own)
    assert report["status"] == "ready", warned(report)
    assert check_by_id(report, requested_id)["status"] == "pass"
    assert report["mode"] == mode


@pytest.mark.parametrize("kind", ["rollback", "rehearsal", "drills", "schedule"])
def test_another_reports_path_does_not_request_this_one(kind: str) -> None:
    docs = sample_documents()
    own = {"rollback": "plan", "rehearsal": "rehearsal", "drills": "history", "schedule": "schedule"}[kind]
    del docs[own]
    report = REPORTS[kind](judgements("enforce", **docs))
    assert report["status"] == "not_requested"
    assert checks_of(report)[0]["status"] == "warn"


@pytest.mark.parametrize("kind", ["rollback", "rehearsal", "drills", "schedule"])
def test_promoted_mode_requests_every_report(kind: str) -> None:
    report = REPORTS[kind](judgements("promoted"))
    assert report["status"] == "needs_attention"
    assert checks_of(report)[0]["status"] == "pass"
    assert checks_of(report)[0]["mode"] == "promoted"


# ---- rollback readiness --------------------------------------------------------------------


def test_rollback_check_extras() -> None:
    report = rollback_report(judgements(**sample_documents()))
    assert check_by_id(report, "go_rollback_plan")["path"] == "plan.json"
    assert check_by_id(report, "go_rollback_plan")["rollback_schema"] == "cavra.go-backend-rollback-plan.v1"
    assert (
        check_by_id(report, "go_rollback_plan")["message"] == "Rollback plan is ready for promoted Go backend pilots."
    )
    assert check_by_id(report, "go_rollback_approval")["approval_id"] == "apr_go_backend_rollback"
    assert check_by_id(report, "go_rollback_disable_path")["target_mode"] == "disabled"
    assert check_by_id(report, "go_rollback_controls")["missing_controls"] == []
    assert check_by_id(report, "python_fallback_available")["status"] == "pass"


def test_python_fallback_check_always_passes() -> None:
    for scenario in SCENARIOS.values():
        assert check_by_id(rollback_report(scenario()), "python_fallback_available")["status"] == "pass"


def test_unapproved_plan_needs_attention_through_the_approval_check_only() -> None:
    plan = samples.plan()
    plan["approved"] = False
    report = rollback_report(judgements(plan=samples.document(plan, "plan.json")))
    assert report["status"] == "needs_attention"
    assert warned(report) == ["go_rollback_approval"]


def test_plan_with_a_missing_control_warns_plan_and_controls() -> None:
    plan = samples.plan()
    plan["controls"] = samples.REQUIRED_CONTROLS[1:]
    report = rollback_report(judgements(plan=samples.document(plan, "plan.json")))
    assert warned(report) == ["go_rollback_plan", "go_rollback_controls"]
    assert check_by_id(report, "go_rollback_controls")["missing_controls"] == ["python-fallback-available"]


def test_plan_with_another_target_warns_plan_and_disable_path() -> None:
    plan = samples.plan()
    plan["target_mode"] = "shadow"
    report = rollback_report(judgements(plan=samples.document(plan, "plan.json")))
    assert warned(report) == ["go_rollback_plan", "go_rollback_disable_path"]
    assert check_by_id(report, "go_rollback_disable_path")["target_mode"] == "shadow"


# ---- rehearsal -----------------------------------------------------------------------------


def test_rehearsal_check_messages_on_pass() -> None:
    report = rehearsal_report(judgements(**sample_documents()))
    messages = {c["id"]: c["message"] for c in checks_of(report)}
    assert messages["go_rollback_rehearsal_evidence"] == (
        "Rollback rehearsal evidence proves Python fallback restoration within the approved recovery target."
    )
    assert messages["go_rollback_rehearsal_simulated"] == "Rollback rehearsal was simulated."
    assert messages["go_rollback_rehearsal_fallback_verified"] == "Python fallback restoration was verified."
    assert messages["go_rollback_rehearsal_recovery_sla"] == "Recovery target was met."
    assert messages["go_rollback_rehearsal_evidence_refs"] == "Rollback rehearsal evidence references are recorded."


def test_rehearsal_check_messages_on_failure() -> None:
    evidence = samples.rehearsal()
    evidence.update(simulated=False, fallback_verified=False, recovery_minutes=16, evidence_refs=[])
    report = rehearsal_report(judgements(rehearsal=samples.document(evidence, "rehearsal.json")))
    messages = {c["id"]: c["message"] for c in checks_of(report)}
    assert (
        messages["go_rollback_rehearsal_evidence"]
        == "rollback rehearsal evidence_refs must be a non-empty list of strings"
    )
    assert messages["go_rollback_rehearsal_simulated"] == "rollback rehearsal must be marked simulated=true"
    assert (
        messages["go_rollback_rehearsal_fallback_verified"]
        == "rollback rehearsal must verify Python fallback restoration"
    )
    assert messages["go_rollback_rehearsal_recovery_sla"] == (
        "rollback rehearsal recovery_minutes must be positive and less than or equal to max_recovery_minutes"
    )
    assert messages["go_rollback_rehearsal_evidence_refs"] == "rollback rehearsal must include evidence_refs"
    assert warned(report) == REHEARSAL_IDS[1:]


def test_rehearsal_evidence_check_fails_on_any_rule_even_with_the_success_message() -> None:
    evidence = samples.rehearsal()
    evidence["simulated"] = "true"
    report = rehearsal_report(judgements(rehearsal=samples.document(evidence, "rehearsal.json")))
    assert warned(report) == ["go_rollback_rehearsal_evidence", "go_rollback_rehearsal_simulated"]
    assert report["status"] == "needs_attention"


def test_rehearsal_sla_extras_use_the_effective_max() -> None:
    evidence = samples.rehearsal()
    del evidence["max_recovery_minutes"]
    docs = sample_documents()
    docs["rehearsal"] = samples.document(evidence, "rehearsal.json")
    sla = check_by_id(rehearsal_report(judgements(**docs)), "go_rollback_rehearsal_recovery_sla")
    assert (sla["status"], sla["recovery_minutes"], sla["max_recovery_minutes"]) == ("pass", 6, 15)


def test_rehearsal_binds_to_the_configured_plan_only() -> None:
    evidence = samples.rehearsal()
    evidence["plan_approval_id"] = "apr_other"
    rehearsal = samples.document(evidence, "rehearsal.json")
    bound = rehearsal_report(judgements(plan=samples.document(samples.plan(), "plan.json"), rehearsal=rehearsal))
    assert warned(bound) == ["go_rollback_rehearsal_evidence"]
    assert check_by_id(bound, "go_rollback_rehearsal_evidence")["message"] == (
        "rollback rehearsal plan_approval_id must match the rollback plan approval_id"
    )
    assert rehearsal_report(judgements(rehearsal=rehearsal))["status"] == "ready"


def test_rehearsal_binds_to_an_invalid_plan() -> None:
    plan = samples.plan()
    plan.update(status="draft", approved=False)
    evidence = samples.rehearsal()
    evidence["plan_approval_id"] = "apr_other"
    j = judgements(plan=samples.document(plan, "plan.json"), rehearsal=samples.document(evidence, "r.json"))
    assert rehearsal_report(j)["status"] == "needs_attention"


def test_rehearsal_with_a_missing_plan_file_binds_to_nothing() -> None:
    evidence = samples.rehearsal()
    evidence["plan_approval_id"] = "apr_other"
    j = judgements(
        plan=Document("plan.json", None, "metadata file is missing"), rehearsal=samples.document(evidence, "r.json")
    )
    assert rehearsal_report(j)["status"] == "ready"


# ---- drill history -------------------------------------------------------------------------


def test_history_check_messages_on_pass() -> None:
    report = drill_history_report(judgements(**sample_documents()))
    messages = {c["id"]: c["message"] for c in checks_of(report)}
    assert messages["go_rollback_drill_latest_passed"] == "Latest rollback drill passed."
    assert messages["go_rollback_drill_disabled_target"] == "Latest rollback drill returned to Python-only mode."
    assert (
        messages["go_rollback_drill_fallback_verified"] == "Latest rollback drill verified Python fallback restoration."
    )
    assert messages["go_rollback_drill_recovery_sla"] == "Latest rollback drill met the recovery target."
    assert messages["go_rollback_drill_freshness"] == "Latest rollback drill is within the freshness window."
    freshness = check_by_id(report, "go_rollback_drill_freshness")
    assert (freshness["max_age_days"], freshness["age_days"]) == (90.0, 3.0)
    assert (
        check_by_id(report, "go_rollback_drill_latest_passed")["latest_drill_id"] == "drill_go_backend_python_fallback"
    )


def test_history_check_messages_on_failure() -> None:
    stale = samples.zulu(NOW - timedelta(days=91))
    drill = samples.drill(stale, status="fail", target_mode="promoted", fallback_verified=False, recovery_minutes=20)
    report = drill_history_report(judgements(history=samples.document(samples.history(drill), "drills.json")))
    messages = {c["id"]: c["message"] for c in checks_of(report)}
    assert messages["go_rollback_drill_latest_passed"] == "latest rollback drill must record status=pass"
    assert messages["go_rollback_drill_disabled_target"] == "latest rollback drill must set target_mode=disabled"
    assert (
        messages["go_rollback_drill_fallback_verified"]
        == "latest rollback drill must verify Python fallback restoration"
    )
    assert messages["go_rollback_drill_recovery_sla"] == (
        "latest rollback drill recovery_minutes must be positive and less than or equal to max_recovery_minutes"
    )
    assert messages["go_rollback_drill_freshness"] == "latest rollback drill is missing, invalid, or stale"
    assert warned(report) == HISTORY_IDS[1:]


def test_history_file_check_fails_on_rules_without_a_check_of_their_own() -> None:
    drill = samples.drill(None, runbook_ref=None)
    report = drill_history_report(judgements(history=samples.document(samples.history(drill), "drills.json")))
    assert warned(report) == ["go_rollback_drill_history_file"]
    assert report["status"] == "needs_attention"


# ---- schedule ------------------------------------------------------------------------------


def test_schedule_report_ready_with_the_history_section() -> None:
    report = schedule_report(judgements(**sample_documents()))
    assert report["status"] == "ready"
    history = report["history"]
    assert isinstance(history, dict)
    assert history["latest_drill_id"] == "drill_go_backend_python_fallback"
    next_due = check_by_id(report, "go_rollback_drill_schedule_next_due")
    assert next_due["days_until_due"] == 30.0
    assert next_due["next_due_at"] == "2026-12-29T12:00:00+00:00"


def test_schedule_stale_warns_file_and_not_stale() -> None:
    docs = sample_documents()
    docs["schedule"] = samples.document(samples.schedule(samples.zulu(NOW - timedelta(days=1))), "schedule.json")
    report = schedule_report(judgements(**docs))
    assert report["status"] == "needs_attention"
    assert warned(report) == ["go_rollback_drill_schedule_file", "go_rollback_drill_schedule_not_stale"]


def test_schedule_due_soon_checks_all_pass() -> None:
    docs = sample_documents()
    docs["schedule"] = samples.document(samples.schedule(samples.zulu(NOW + timedelta(days=2))), "schedule.json")
    report = schedule_report(judgements(**docs))
    assert report["status"] == "due_soon"
    assert warned(report) == []


# ---- production readiness ------------------------------------------------------------------


def production_statuses(report: dict[str, object]) -> dict[str, object]:
    keys = {
        "go_backend_rollback_controls": "go_rollback_status",
        "go_backend_rollback_rehearsal": "go_rollback_rehearsal_status",
        "go_backend_rollback_drill_history": "go_rollback_drill_history_status",
        "go_backend_rollback_drill_schedule": "go_rollback_drill_schedule_status",
    }
    return {c["id"]: (c["status"], c[keys[c["id"]]]) for c in checks_of(report)}


def test_production_ready_with_the_samples() -> None:
    report = production_report(judgements(**sample_documents()))
    assert report["status"] == "ready"
    assert production_statuses(report) == {
        "go_backend_rollback_controls": ("pass", "ready"),
        "go_backend_rollback_rehearsal": ("pass", "ready"),
        "go_backend_rollback_drill_history": ("pass", "ready"),
        "go_backend_rollback_drill_schedule": ("pass", "ready"),
    }
    assert all(c["mode"] == "promoted" for c in checks_of(report))


def test_production_accepts_a_schedule_due_soon() -> None:
    docs = sample_documents()
    docs["schedule"] = samples.document(samples.schedule(samples.zulu(NOW + timedelta(days=1))), "schedule.json")
    report = production_report(judgements(**docs))
    assert report["status"] == "ready"
    assert production_statuses(report)["go_backend_rollback_drill_schedule"] == ("pass", "due_soon")


@pytest.mark.parametrize(
    ("document_name", "check_id"),
    [
        ("plan", "go_backend_rollback_controls"),
        ("rehearsal", "go_backend_rollback_rehearsal"),
        ("history", "go_backend_rollback_drill_history"),
        ("schedule", "go_backend_rollback_drill_schedule"),
    ],
)
def test_production_needs_attention_when_one_section_does(document_name: str, check_id: str) -> None:
    docs = sample_documents()
    docs[document_name] = Document(f"{document_name}.json", None, "metadata file is missing")
    report = production_report(judgements(**docs))
    assert report["status"] == "needs_attention"
    assert warned(report) == [check_id]
    assert production_statuses(report)[check_id] == ("warn", "needs_attention")


def test_production_with_only_some_reports_requested() -> None:
    docs = sample_documents()
    report = production_report(judgements("disabled", plan=docs["plan"]))
    assert report["status"] == "ready"
    assert production_statuses(report) == {
        "go_backend_rollback_controls": ("pass", "ready"),
        "go_backend_rollback_rehearsal": ("pass", "not_requested"),
        "go_backend_rollback_drill_history": ("pass", "not_requested"),
        "go_backend_rollback_drill_schedule": ("pass", "not_requested"),
    }


def test_production_needs_attention_when_promoted_with_nothing_configured() -> None:
    report = production_report(judgements("promoted"))
    assert report["status"] == "needs_attention"
    assert warned(report) == PRODUCTION_IDS
