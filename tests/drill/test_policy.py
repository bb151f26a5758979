from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cavra_drill.drill.policy import (
    ACTION_TYPES,
    DECISIONS,
    DEFAULT_POLICY,
    INVALID_REQUEST,
    PROBE_REQUESTS,
    evaluate,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20,
)


def assert_decision(result: dict[str, str]) -> None:
    assert set(result) == {"decision", "rule_id", "severity", "reason"}
    assert result["decision"] in DECISIONS
    assert all(isinstance(value, str) for value in result.values())
    assert result["rule_id"]


def test_probes_cover_every_decision_and_action_type() -> None:
    outcomes = {(str(r["action_type"]), evaluate(DEFAULT_POLICY, r)["decision"]) for r in PROBE_REQUESTS}
    assert {decision for _, decision in outcomes} == set(DECISIONS)
    assert {action for action, _ in outcomes} == set(ACTION_TYPES)
    for action in ("execute_command", "read_file", "write_file", "git_operation"):
        decided = {decision for kind, decision in outcomes if kind == action}
        assert len(decided) >= 2, f"{action} probes all decide {decided}"


def test_probes_match_rules_not_the_default() -> None:
    # A probe that falls through to the default proves nothing about rule order.
    for request in PROBE_REQUESTS:
        assert evaluate(DEFAULT_POLICY, request)["rule_id"] != "default-deny", request


def test_probes_are_public_safe() -> None:
    text = json.dumps(PROBE_REQUESTS)
    assert "@" not in text
    assert "://" not in text
    assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text)
    for request in PROBE_REQUESTS:
        assert {"action_type", "session_id", "agent_id", "actor", "policy_pack"} <= set(request)


def test_first_matching_rule_wins() -> None:
    # Both the force-push block and the push approval could apply; the block comes first.
    request = {"action_type": "git_operation", "operation": "push", "target": "main --force"}
    assert evaluate(DEFAULT_POLICY, request)["rule_id"] == "git-block-force-push"
    request["target"] = "main"
    assert evaluate(DEFAULT_POLICY, request)["rule_id"] == "git-approve-push"


def test_policy_survives_a_json_round_trip() -> None:
    reloaded = json.loads(json.dumps(DEFAULT_POLICY))
    for request in PROBE_REQUESTS:
        assert evaluate(reloaded, request) == evaluate(DEFAULT_POLICY, request)


@pytest.mark.parametrize(
    "request_value",
    [None, [], "execute_command", 7, {}, {"action_type": 5}, {"action_type": ""}, {"target": "pytest"}],
)
def test_requests_without_an_action_type_are_blocked_as_invalid(request_value: object) -> None:
    assert evaluate(DEFAULT_POLICY, request_value) == INVALID_REQUEST  # type: ignore[arg-type]


def test_missing_or_odd_fields_fall_through_to_the_default() -> None:
    for request in (
        {"action_type": "execute_command"},
        {"action_type": "execute_command", "target": ["pytest"]},
        {"action_type": "read_file", "target": None},
        {"action_type": "unknown_action", "target": "src/x.py"},
    ):
        assert evaluate(DEFAULT_POLICY, request)["rule_id"] == "default-deny"


@pytest.mark.parametrize(
    "policy",
    [
        {},
        {"rules": "not a list", "default": "not a mapping"},
        {"rules": [None, 3, {"action_type": "read_file", "match": "x"}], "default": {"decision": "maybe"}},
        {"rules": [{"action_type": "read_file", "match": {"target": {"startswith": ""}}, "decision": "allow"}]},
    ],
)
def test_malformed_policies_block_instead_of_raising(policy: dict[str, object]) -> None:
    result = evaluate(policy, {"action_type": "read_file", "target": "src/a.py"})
    assert result["decision"] == "block"
    assert result["rule_id"] == "policy-default-missing"


@given(json_values)
def test_evaluate_is_total_over_json(value: object) -> None:
    assert_decision(evaluate(DEFAULT_POLICY, value))  # type: ignore[arg-type]


@given(st.dictionaries(st.sampled_from(["action_type", "target", "operation", "tool"]), json_values, max_size=4))
def test_evaluate_is_total_and_deterministic_over_request_objects(request: dict[str, object]) -> None:
    first = evaluate(DEFAULT_POLICY, request)
    assert_decision(first)
    assert evaluate(DEFAULT_POLICY, request) == first


@given(json_values)
def test_evaluate_is_total_over_policies(policy: object) -> None:
    assert_decision(evaluate(policy, PROBE_REQUESTS[0]))  # type: ignore[arg-type]
