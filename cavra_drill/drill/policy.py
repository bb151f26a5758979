"""The compiled policy that both simulated backends evaluate, and the probe requests.

The stub Go runtime and the decision service's Python backend run the *same* `evaluate` over
the *same* policy file, so in a healthy sandbox they are in parity by construction; a drill
sees a difference only when an incident is injected. That is the point: parity here proves the
plumbing (which backend answered), not two independent policy engines.

A rule matches when the request's `action_type` equals the rule's and every condition in
`match` holds. A condition names a request field and one test on it: `equals`, `prefix` or
`contains`. Fields that are missing or not strings never satisfy a condition, so an odd request
falls through to the default instead of raising. Rules are tried in order; the first match
wins.

This module is imported by the stub runtime on every invocation: stdlib only, nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping

DECISIONS = ("allow", "block", "require_approval")
ACTION_TYPES = ("execute_command", "read_file", "write_file", "git_operation", "mcp_tool_call")
MATCH_TESTS = ("equals", "prefix", "contains")

INVALID_REQUEST: dict[str, str] = {
    "decision": "block",
    "rule_id": "invalid-request",
    "severity": "high",
    "reason": "request is not a JSON object with a string action_type",
}

# Used when a policy's own default is malformed: evaluation must still answer, and an answer
# that lets an action through by accident would be the wrong way to fail.
_BUILTIN_DEFAULT: dict[str, str] = {
    "decision": "block",
    "rule_id": "policy-default-missing",
    "severity": "high",
    "reason": "policy has no usable default decision",
}

DEFAULT_POLICY: dict[str, object] = {
    "policy_id": "cavra-drill-sandbox",
    "version": "1",
    "default": {
        "decision": "block",
        "rule_id": "default-deny",
        "severity": "medium",
        "reason": "no rule allows this action",
    },
    "rules": [
        {
            "rule_id": "cmd-block-recursive-delete",
            "action_type": "execute_command",
            "match": {"target": {"contains": "rm -rf"}},
            "decision": "block",
            "severity": "critical",
            "reason": "recursive delete is never run by an agent",
        },
        {
            "rule_id": "cmd-approve-privileged",
            "action_type": "execute_command",
            "match": {"target": {"prefix": "sudo "}},
            "decision": "require_approval",
            "severity": "high",
            "reason": "privileged commands need a human",
        },
        {
            "rule_id": "cmd-allow-tests",
            "action_type": "execute_command",
            "match": {"target": {"prefix": "pytest"}},
            "decision": "allow",
            "severity": "low",
            "reason": "running the test suite is routine",
        },
        {
            "rule_id": "file-block-env-read",
            "action_type": "read_file",
            "match": {"target": {"contains": ".env"}},
            "decision": "block",
            "severity": "high",
            "reason": "environment files may hold credentials",
        },
        {
            "rule_id": "file-allow-source-read",
            "action_type": "read_file",
            "match": {"target": {"prefix": "src/"}},
            "decision": "allow",
            "severity": "low",
            "reason": "reading source is routine",
        },
        {
            "rule_id": "file-approve-ci-write",
            "action_type": "write_file",
            "match": {"target": {"prefix": ".github/workflows/"}},
            "decision": "require_approval",
            "severity": "high",
            "reason": "CI definitions change what runs with repository credentials",
        },
        {
            "rule_id": "file-allow-source-write",
            "action_type": "write_file",
            "match": {"target": {"prefix": "src/"}},
            "decision": "allow",
            "severity": "low",
            "reason": "editing source is the agent's job",
        },
        {
            "rule_id": "git-block-force-push",
            "action_type": "git_operation",
            "match": {"operation": {"prefix": "push"}, "target": {"contains": "--force"}},
            "decision": "block",
            "severity": "critical",
            "reason": "force pushes rewrite shared history",
        },
        {
            "rule_id": "git-approve-push",
            "action_type": "git_operation",
            "match": {"operation": {"equals": "push"}},
            "decision": "require_approval",
            "severity": "medium",
            "reason": "pushes publish work and need a human",
        },
        {
            "rule_id": "git-allow-read-only",
            "action_type": "git_operation",
            "match": {"operation": {"prefix": "status"}},
            "decision": "allow",
            "severity": "low",
            "reason": "read-only git commands are routine",
        },
        {
            "rule_id": "mcp-block-delete",
            "action_type": "mcp_tool_call",
            "match": {"tool": {"contains": "delete"}},
            "decision": "block",
            "severity": "high",
            "reason": "destructive tools are not available to agents",
        },
        {
            "rule_id": "mcp-allow-docs-search",
            "action_type": "mcp_tool_call",
            "match": {"tool": {"prefix": "docs."}},
            "decision": "allow",
            "severity": "low",
            "reason": "documentation lookups are read-only",
        },
    ],
}

_PROBE_COMMON: dict[str, object] = {
    "session_id": "drill-session-0001",
    "agent_id": "drill-agent",
    "actor": "cavra-drill",
    "policy_pack": "cavra-drill-sandbox",
}

PROBE_REQUESTS: tuple[dict[str, object], ...] = (
    {**_PROBE_COMMON, "action_type": "execute_command", "target": "pytest -q"},
    {**_PROBE_COMMON, "action_type": "execute_command", "target": "rm -rf build"},
    {**_PROBE_COMMON, "action_type": "execute_command", "target": "sudo systemctl restart app"},
    {**_PROBE_COMMON, "action_type": "read_file", "target": "src/app/main.py"},
    {**_PROBE_COMMON, "action_type": "read_file", "target": "config/.env"},
    {**_PROBE_COMMON, "action_type": "write_file", "target": "src/app/main.py"},
    {**_PROBE_COMMON, "action_type": "write_file", "target": ".github/workflows/release.yml"},
    {**_PROBE_COMMON, "action_type": "git_operation", "operation": "status", "target": "."},
    {**_PROBE_COMMON, "action_type": "git_operation", "operation": "push", "target": "main"},
    {
        **_PROBE_COMMON,
        "action_type": "git_operation",
        "operation": "push",
        "target": "main --force",
    },
    {
        **_PROBE_COMMON,
        "action_type": "mcp_tool_call",
        "tool": "docs.search",
        "capability": "read",
    },
    {
        **_PROBE_COMMON,
        "action_type": "mcp_tool_call",
        "tool": "storage.delete_bucket",
        "capability": "write",
    },
)


def evaluate(policy: Mapping[str, object], request: Mapping[str, object]) -> dict[str, str]:
    """The decision for `request`: the first matching rule, else the policy's default.

    Total over its inputs: the request and the policy arrive as parsed JSON from files and
    pipes, so any shape is possible, and an exception here would turn a bad request into a
    runtime crash (a fallback) instead of a decision.
    """
    if not isinstance(request, Mapping):
        return dict(INVALID_REQUEST)
    action_type = request.get("action_type")
    if not isinstance(action_type, str) or not action_type:
        return dict(INVALID_REQUEST)
    if not isinstance(policy, Mapping):
        return dict(_BUILTIN_DEFAULT)
    rules = policy.get("rules")
    if isinstance(rules, list):
        for rule in rules:
            if isinstance(rule, Mapping) and _rule_matches(rule, action_type, request):
                outcome = _outcome(rule)
                if outcome is not None:
                    return outcome
    default = policy.get("default")
    if isinstance(default, Mapping):
        outcome = _outcome(default)
        if outcome is not None:
            return outcome
    return dict(_BUILTIN_DEFAULT)


def _rule_matches(rule: Mapping[object, object], action_type: str, request: Mapping[str, object]) -> bool:
    if rule.get("action_type") != action_type:
        return False
    conditions = rule.get("match", {})
    if not isinstance(conditions, Mapping):
        return False
    for field, test in conditions.items():
        if not isinstance(field, str) or not isinstance(test, Mapping):
            return False
        value = request.get(field)
        if not isinstance(value, str) or not _condition_holds(test, value):
            return False
    return True


def _condition_holds(test: Mapping[object, object], value: str) -> bool:
    # A condition with no known test must not match everything: that would silently widen
    # a rule written with a typo.
    known = False
    for name, operand in test.items():
        if name not in MATCH_TESTS or not isinstance(operand, str):
            return False
        known = True
        if name == "equals" and value != operand:
            return False
        if name == "prefix" and not value.startswith(operand):
            return False
        if name == "contains" and operand not in value:
            return False
    return known


def _outcome(source: Mapping[object, object]) -> dict[str, str] | None:
    decision = source.get("decision")
    rule_id = source.get("rule_id")
    severity = source.get("severity")
    reason = source.get("reason", "")
    if decision not in DECISIONS or not isinstance(rule_id, str) or not rule_id:
        return None
    if not isinstance(severity, str) or not isinstance(reason, str):
        return None
    return {"decision": str(decision), "rule_id": rule_id, "severity": severity, "reason": reason}
