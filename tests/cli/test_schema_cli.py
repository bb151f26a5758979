"""`cavra-drill schema KIND` through the real CLI: each kind prints a JSON Schema that holds the contract.

The `jsonschema` package is not installed in this project, so the schemas are checked on their
text: in JSON Schema, `"type": "number"` does not admit `true`/`false` (booleans are their own
type), which is how a bool for max_recovery_minutes is rejected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from clirun import CliResult, assert_no_traceback

Cli = Callable[..., CliResult]

KINDS = ["plan", "rehearsal", "drill", "history", "schedule"]
SCHEMA_VERSIONS = {
    "plan": "cavra.go-backend-rollback-plan.v1",
    "rehearsal": "cavra.go-backend-rollback-rehearsal.v1",
    "history": "cavra.go-backend-rollback-drill-history.v1",
    "schedule": "cavra.go-backend-rollback-drill-schedule.v1",
}
CONTRACT_FIELDS = {
    "plan": {
        "schema_version",
        "status",
        "target_mode",
        "approved",
        "approval",
        "approval_id",
        "max_recovery_minutes",
        "controls",
        "rollback_steps",
        "evidence_refs",
    },
    "rehearsal": {
        "schema_version",
        "status",
        "plan_approval_id",
        "simulated",
        "fallback_verified",
        "recovery_minutes",
        "max_recovery_minutes",
        "runbook_ref",
        "evidence_refs",
    },
    "drill": {
        "drill_id",
        "executed_at",
        "actor",
        "source_mode",
        "target_mode",
        "status",
        "fallback_verified",
        "recovery_minutes",
        "max_recovery_minutes",
        "runbook_ref",
        "evidence_refs",
    },
    "history": {"schema_version", "environment", "drills"},
    "schedule": {
        "schema_version",
        "schedule_id",
        "environment",
        "status",
        "interval_days",
        "next_due_at",
        "owners",
        "notification_providers",
        "owner_routes",
        "maintenance_windows",
        "owner_calendars",
        "runbook_ref",
    },
}


def schema_of(cli: Cli, kind: str) -> dict[str, Any]:
    result = cli("schema", kind)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    schema = json.loads(result.stdout)
    assert isinstance(schema, dict)
    return schema


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (`#/$defs/Name`)."""
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        node = schema["$defs"][name]
    return node


def drill_schema(schema: dict[str, Any], kind: str) -> dict[str, Any]:
    """The schema of one drill: the document itself, or the items of `drills`."""
    if kind == "history":
        return resolve(schema, schema["properties"]["drills"]["items"])
    return schema


def assert_positive_number(node: dict[str, Any]) -> None:
    """A positive number that a bool, a string, null, 0 or a negative fails."""
    assert node.get("type") == "number", node
    assert node.get("exclusiveMinimum") == 0, node
    for alternative in ("anyOf", "oneOf", "allOf"):
        assert alternative not in node, node


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_prints_a_json_schema(cli: Cli, kind: str) -> None:
    schema = schema_of(cli, kind)
    assert schema["type"] == "object"
    assert isinstance(schema["properties"], dict)
    assert isinstance(schema.get("required", []), list)
    assert set(schema.get("required", [])) <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    assert CONTRACT_FIELDS[kind] <= set(schema["properties"])


@pytest.mark.parametrize("kind", ["plan", "rehearsal", "history", "schedule"])
def test_schema_version_is_the_contracts(cli: Cli, kind: str) -> None:
    node = schema_of(cli, kind)["properties"]["schema_version"]
    assert node["const"] == SCHEMA_VERSIONS[kind]


@pytest.mark.parametrize("kind", ["plan", "rehearsal", "drill", "history"])
def test_max_recovery_minutes_rejects_a_bool(cli: Cli, kind: str) -> None:
    schema = schema_of(cli, kind)
    node = drill_schema(schema, kind) if kind in ("drill", "history") else schema
    assert_positive_number(resolve(schema, node["properties"]["max_recovery_minutes"]))
    assert "max_recovery_minutes" in node["required"]


@pytest.mark.parametrize("kind", ["rehearsal", "drill", "history"])
def test_recovery_minutes_is_a_positive_number(cli: Cli, kind: str) -> None:
    schema = schema_of(cli, kind)
    node = drill_schema(schema, kind) if kind != "rehearsal" else schema
    assert_positive_number(resolve(schema, node["properties"]["recovery_minutes"]))


def test_schedule_interval_is_a_positive_number(cli: Cli) -> None:
    schema = schema_of(cli, "schedule")
    assert_positive_number(schema["properties"]["interval_days"])
    assert schema["properties"]["owners"]["minItems"] == 1
    assert schema["properties"]["notification_providers"]["minItems"] == 1


@pytest.mark.parametrize("field", ["simulated", "fallback_verified"])
def test_rehearsal_flags_are_booleans(cli: Cli, field: str) -> None:
    assert schema_of(cli, "rehearsal")["properties"][field]["type"] == "boolean"


def test_rehearsal_refs_and_runbook_are_non_empty(cli: Cli) -> None:
    properties = schema_of(cli, "rehearsal")["properties"]
    assert properties["evidence_refs"]["type"] == "array"
    assert properties["evidence_refs"]["minItems"] == 1
    assert properties["evidence_refs"]["items"]["type"] == "string"
    assert properties["runbook_ref"]["type"] == "string"
    assert properties["runbook_ref"]["minLength"] == 1


def test_plan_steps_are_a_non_empty_list_of_strings(cli: Cli) -> None:
    properties = schema_of(cli, "plan")["properties"]
    assert properties["rollback_steps"]["minItems"] == 1
    assert properties["rollback_steps"]["items"]["type"] == "string"
    assert properties["status"]["const"] == "ready"
    assert properties["target_mode"]["const"] == "disabled"


def test_drill_target_mode_is_disabled(cli: Cli) -> None:
    assert schema_of(cli, "drill")["properties"]["target_mode"]["const"] == "disabled"


def test_the_model_behind_the_schema_rejects_a_bool() -> None:
    from pydantic import ValidationError

    from cavra_drill.contract.models import RollbackPlan

    fields: dict[str, object] = {
        "approved": True,
        "approval_id": "apr_go_backend_rollback",
        "controls": [],
        "rollback_steps": ["Set CAVRA_GO_BACKEND_MODE=disabled."],
    }
    assert RollbackPlan.model_validate({**fields, "max_recovery_minutes": 15}).max_recovery_minutes == 15
    for bad in (True, "15", 0, -1):
        with pytest.raises(ValidationError):
            RollbackPlan.model_validate({**fields, "max_recovery_minutes": bad})


@pytest.mark.parametrize("args", [["bogus"], [], ["plan", "extra"], ["--json", "plan"]])
def test_bad_usage_exits_2(cli: Cli, args: list[str]) -> None:
    result = cli("schema", *args)
    assert_no_traceback(result)
    assert result.returncode == 2
    assert result.stdout == ""
