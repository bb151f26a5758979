"""The CI renderers as pure functions: JUnit, Markdown, annotations, metrics, attestation."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from prometheus_client.parser import text_string_to_metric_families

from cavra_drill.formats.annotations import render_annotations
from cavra_drill.formats.attestation import FileDigest, render_attestation
from cavra_drill.formats.junit import render_junit
from cavra_drill.formats.markdown import render_step_summary
from cavra_drill.formats.metrics import previous_last_success, render_metrics
from outputs.samples import PHASES, blocked_readiness, evidence, parse_junit, readiness

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit-10.xsd"))
FILES = {"evidence": "/somewhere/deep/go-backend-rollback-rehearsal.json", "junit": "reports/junit.xml"}


def cases(xml: str) -> dict[str, ET.Element]:
    root = parse_junit(xml)
    return {f"{c.get('classname')}/{c.get('name')}": c for c in root.iter("testcase")}


# --- JUnit -----------------------------------------------------------------------------------


def test_junit_of_a_passing_run_is_valid_junit_10_with_no_failure() -> None:
    xml = render_junit(evidence(), readiness(), failure=None)
    SCHEMA.validate(xml)
    root = parse_junit(xml)
    assert root.get("failures") == "0" and root.get("errors") == "0"
    drill_suite, readiness_suite = root.findall("testsuite")
    # One case per phase plus the verdict; one per production check plus each section's checks.
    assert [c.get("name") for c in drill_suite.findall("testcase")] == [*PHASES, "drill-verdict"]
    assert readiness_suite.get("tests") == str(4 + 4 * 2)
    # The unrequested schedule's checks all pass here: nothing skipped.
    assert readiness_suite.get("skipped") == "0"
    assert root.get("tests") == str(len(PHASES) + 1 + 12)


def test_junit_counts_and_times_add_up() -> None:
    xml = render_junit(evidence(failed_phase="verify"), blocked_readiness(), failure="verification failed")
    SCHEMA.validate(xml)
    root = parse_junit(xml)
    total_failures = 0
    for suite in root.findall("testsuite"):
        testcases = suite.findall("testcase")
        failures = sum(1 for c in testcases if c.find("failure") is not None)
        skipped = sum(1 for c in testcases if c.find("skipped") is not None)
        assert suite.get("tests") == str(len(testcases))
        assert suite.get("failures") == str(failures)
        assert suite.get("skipped") == str(skipped)
        assert float(suite.get("time", "")) == pytest.approx(sum(float(c.get("time", "")) for c in testcases), abs=0.01)
        total_failures += failures
    assert root.get("failures") == str(total_failures)
    # verify + verdict; the production rehearsal check + its one warning section check.
    assert total_failures == 4


def test_junit_failure_semantics_for_warn_checks() -> None:
    xml = render_junit(evidence(failed_phase="verify"), blocked_readiness(), failure="verification failed: boom")
    by_name = cases(xml)
    verify = by_name["cavra_drill.drill/verify"].find("failure")
    assert verify is not None and verify.get("message", "").startswith("verify failed")
    verdict = by_name["cavra_drill.drill/drill-verdict"].find("failure")
    assert verdict is not None and verdict.get("message") == "verification failed: boom"
    # A warn in a report that blocks readiness is a failure, with CAVRA's message...
    blocked = by_name["cavra_drill.readiness.go_backend_rollback_rehearsal/go_rollback_rehearsal_fallback_verified"]
    failure = blocked.find("failure")
    assert failure is not None
    assert failure.get("message") == "rollback rehearsal must verify Python fallback restoration"
    assert failure.get("type") == "readiness-check"
    production = by_name["cavra_drill.readiness.production/go_backend_rollback_rehearsal"]
    assert production.find("failure") is not None
    # ...a warn in a not_requested report is skipped, visible, and not a failure.
    schedule = "cavra_drill.readiness.go_backend_rollback_drill_schedule"
    unrequested = by_name[f"{schedule}/go_rollback_drill_schedule_requested"]
    assert unrequested.find("failure") is None
    skipped = unrequested.find("skipped")
    assert skipped is not None and "not requested" in skipped.get("message", "")
    assert by_name["cavra_drill.readiness.production/go_backend_rollback_drill_schedule"].find("failure") is None


def test_junit_verdict_fails_when_every_phase_passed_but_the_target_was_missed() -> None:
    xml = render_junit(evidence(status="fail"), readiness(), failure="verified after 20 s, beyond the target")
    SCHEMA.validate(xml)
    assert parse_junit(xml).get("failures") == "1"
    assert cases(xml)["cavra_drill.drill/drill-verdict"].find("failure") is not None


def test_junit_escapes_markup_and_replaces_what_xml_cannot_hold() -> None:
    hostile = 'a <b> & "c" \x00\x07 \ud800 done'
    report = readiness({"go_backend_rollback": "needs_attention"}, warn={"go_rollback_plan": hostile})
    xml = render_junit(evidence(), report, failure=None)
    SCHEMA.validate(xml)
    message = cases(xml)["cavra_drill.readiness.go_backend_rollback/go_rollback_plan"].find("failure")
    assert message is not None
    assert message.get("message") == 'a <b> & "c" \ufffd\ufffd \ufffd done'
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_junit_names_no_host() -> None:
    xml = render_junit(evidence(), readiness(), failure=None)
    assert "hostname" not in xml


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_summary_has_status_recovery_phases_checks_and_file_names() -> None:
    text = render_step_summary(evidence(), readiness(), FILES, failure=None)
    assert text.startswith("## ✅ CAVRA rollback drill passed")
    assert "0.750 s (0.0125 min) against a target of 15 min (900 s)" in text
    assert "899.250 s headroom (99.9%)" in text
    for phase in PHASES:
        assert f"| `{phase}` | pass |" in text
    assert "| rehearsal evidence | `go_rollback_rehearsal_requested` | pass |" in text
    assert "| drill schedule | | not requested |" in text
    # File names only: the directories stay out of a page anyone with repo access reads.
    assert "`go-backend-rollback-rehearsal.json`" in text and "/somewhere/deep" not in text
    assert "`junit.xml`" in text
    assert text.endswith("\n\n")


def test_markdown_summary_of_a_failed_run_shows_why_and_the_blocking_checks() -> None:
    text = render_step_summary(
        evidence(failed_phase="verify"), blocked_readiness(), FILES, failure="verification failed | badly"
    )
    assert text.startswith("## ❌ CAVRA rollback drill FAILED")
    assert "**not recovered**" in text and "headroom" not in text
    assert "Why it failed: verification failed \\| badly" in text
    assert "| `verify` | **FAIL** |" in text
    assert "`go_rollback_rehearsal_fallback_verified` | **FAIL** |" in text
    assert "**needs\\_attention**" in text


def test_markdown_summary_says_when_the_target_was_missed() -> None:
    over = evidence(status="fail")
    over["fallback_verified"] = True
    over["recovery_minutes"], over["recovery_seconds"] = 0.5, 30.0
    over["max_recovery_minutes"] = 0.25
    text = render_step_summary(over, readiness(), FILES, failure="beyond the target")
    assert "**over the target** by 15.000 s" in text


def test_markdown_escapes_table_breaking_and_html_characters() -> None:
    report = readiness({"go_backend_rollback": "needs_attention"}, warn={"go_rollback_plan": "a|b <script> *x*"})
    text = render_step_summary(evidence(), report, {}, failure=None)
    (row,) = [line for line in text.splitlines() if "go_rollback_plan" in line]
    assert "a\\|b &lt;script&gt; \\*x\\*" in row
    assert row.count(" | ") == 3  # still four cells


# --- annotations -----------------------------------------------------------------------------


def test_no_annotation_for_a_clean_run_or_a_warn_that_does_not_block() -> None:
    unrequested_warn = readiness(warn={"go_rollback_drill_schedule_requested": "not requested"})
    assert unrequested_warn["go_backend_rollback_drill_schedule"]["status"] == "not_requested"
    assert render_annotations(evidence(), unrequested_warn, failure=None) == ""


def test_one_annotation_per_failure_with_escaped_properties_and_data() -> None:
    text = render_annotations(evidence(failed_phase="verify"), blocked_readiness(), failure="50% done\nthen: stop")
    lines = text.splitlines()
    assert lines == [
        "::error title=cavra-drill%3A rollback drill drill_20260521T154000Z_abc123 failed::50%25 done%0Athen: stop",
        "::error title=cavra-drill readiness%3A go_rollback_rehearsal_fallback_verified::"
        "rollback rehearsal must verify Python fallback restoration",
    ]


def test_production_check_is_annotated_when_its_section_gives_no_cause() -> None:
    report = readiness({"go_backend_rollback_drill_history": "needs_attention"})
    text = render_annotations(evidence(), report, failure=None)
    assert text.splitlines() == [
        "::error title=cavra-drill readiness%3A go_backend_rollback_drill_history::"
        "go_backend_rollback_drill_history needs attention (needs_attention)."
    ]


# --- metrics ---------------------------------------------------------------------------------


def families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_parse_with_help_type_and_environment_label() -> None:
    text = render_metrics(evidence(), readiness(), previous_last_success=None)
    parsed = families(text)
    expected = {
        "cavra_drill_last_run_timestamp_seconds": 1779378000.0,
        "cavra_drill_last_success_timestamp_seconds": 1779378000.0,
        "cavra_drill_recovery_seconds": 0.75,
        "cavra_drill_recovery_target_seconds": 900.0,
        "cavra_drill_drill_status": 1.0,
        "cavra_drill_fallback_verified": 1.0,
    }
    for name, value in expected.items():
        (sample,) = parsed[name].samples
        assert sample.value == value, name
        assert sample.labels == {"environment": "production-pilot"}
        assert parsed[name].type == "gauge" and parsed[name].documentation
    status = {s.labels["status"]: s.value for s in parsed["cavra_drill_readiness_status"].samples}
    assert status == {"ready": 1.0, "needs_attention": 0.0}


def test_a_failing_run_carries_the_last_success_over() -> None:
    first = render_metrics(evidence(), readiness(), previous_last_success=None)
    carried = previous_last_success(first, "production-pilot")
    assert carried == 1779378000.0
    failed = evidence(failed_phase="verify")
    failed["executed_at"] = "2026-05-22T15:40:00Z"
    second = families(render_metrics(failed, blocked_readiness(), previous_last_success=carried))
    assert second["cavra_drill_last_success_timestamp_seconds"].samples[0].value == 1779378000.0
    assert second["cavra_drill_last_run_timestamp_seconds"].samples[0].value == 1779378000.0 + 86400
    assert second["cavra_drill_drill_status"].samples[0].value == 0.0


def test_without_a_known_success_the_sample_is_left_out_not_zero() -> None:
    parsed = families(render_metrics(evidence(failed_phase="verify"), readiness(), previous_last_success=None))
    assert parsed["cavra_drill_last_success_timestamp_seconds"].samples == []


def test_label_values_are_escaped_and_read_back() -> None:
    odd = evidence()
    odd["environment"] = 'we"ird\\name\nx'
    text = render_metrics(odd, readiness(), previous_last_success=None)
    (sample,) = families(text)["cavra_drill_drill_status"].samples
    assert sample.labels["environment"] == 'we"ird\\name\nx'
    assert previous_last_success(text, 'we"ird\\name\nx') == 1779378000.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage\n{{{",
        'cavra_drill_last_success_timestamp_seconds{environment="other"} 5\n',
        'cavra_drill_last_success_timestamp_seconds{environment="production-pilot"} NaN\n',
        'cavra_drill_last_success_timestamp_seconds{environment="production-pilot"} nope\n',
    ],
)
def test_nothing_is_carried_from_a_file_without_our_value(text: str) -> None:
    assert previous_last_success(text, "production-pilot") is None


# --- attestation -----------------------------------------------------------------------------


def test_attestation_is_an_in_toto_test_result_statement() -> None:
    statement = json.loads(
        render_attestation(
            evidence(),
            readiness(warn={"go_rollback_drill_schedule_requested": "not requested"}),
            failure=None,
            evidence_file=FileDigest("go-backend-rollback-rehearsal.json", "ab" * 32),
            plan=FileDigest("plan.json", "cd" * 32),
        )
    )
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    assert statement["subject"] == [{"name": "go-backend-rollback-rehearsal.json", "digest": {"sha256": "ab" * 32}}]
    predicate = statement["predicate"]
    assert predicate["result"] == "PASSED"
    (plan,) = predicate["configuration"]
    assert plan["name"] == "plan.json" and plan["digest"] == {"sha256": "cd" * 32}
    assert plan["annotations"]["environment"] == "production-pilot"
    assert predicate["failedTests"] == []
    (warned,) = predicate["warnedTests"]
    assert warned == "readiness.go_backend_rollback_drill_schedule/go_rollback_drill_schedule_requested"
    assert "drill/verify" in predicate["passedTests"] and "drill/drill-verdict" in predicate["passedTests"]
    assert "url" not in predicate


def test_attestation_of_a_failed_run() -> None:
    statement = json.loads(
        render_attestation(
            evidence(failed_phase="verify"),
            blocked_readiness(),
            failure="verification failed",
            evidence_file=FileDigest("e.json", "ab" * 32),
            plan=FileDigest("plan.json", "cd" * 32),
            schedule=FileDigest("schedule.json", "ef" * 32),
        )
    )
    predicate = statement["predicate"]
    assert predicate["result"] == "FAILED"
    assert set(predicate["failedTests"]) == {
        "drill/verify",
        "drill/drill-verdict",
        "readiness.production/go_backend_rollback_rehearsal",
        "readiness.go_backend_rollback_rehearsal/go_rollback_rehearsal_fallback_verified",
    }
    assert [c["name"] for c in predicate["configuration"]] == ["plan.json", "schedule.json"]
