"""The public-safety gate: every rule fires on its target, not on its near misses, and never on
what cavra-drill itself writes; findings name the field, never the value.

Fake secrets are assembled at run time so that this file holds nothing a secret scanner (or the
gate itself) would flag. Hosts and addresses use the documentation ranges (RFC 2606/5737/3849).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cavra_drill.contract.safety import (
    RULE_NAMES,
    SafetyFinding,
    check_label,
    check_safe,
    scan_text,
    scan_value,
)
from cavra_drill.errors import EXIT_INPUT, InputError


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


AWS_KEY = "AK" + "IA" + "X" * 16
GOOGLE_KEY = "AI" + "za" + "Sy" + "x" * 33
GITHUB_PAT = "gh" + "p_" + "a1B2" * 9
GITHUB_APP = "gh" + "s_" + "Z9y8" * 9
GITHUB_FINE = "github" + "_pat_" + "11AAAA" * 5
GITLAB_PAT = "gl" + "pat-" + "abcDEF123_" * 2
SLACK_BOT = "xo" + "xb-" + "1234567890-0987654321-" + "a" * 24
JWT = ".".join([_b64({"alg": "HS256", "typ": "JWT"}), _b64({"sub": "1234567890"}), "c2lnbmF0dXJl"])
PRIVATE_KEY = "-----BEGIN " + "RSA PRIVATE" + " KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
PASSWORD = "hun" + "ter2"

POSITIVES: list[tuple[str, str]] = [
    ("private-key", PRIVATE_KEY),
    ("private-key", "-----BEGIN " + "OPENSSH PRIVATE" + " KEY-----"),
    ("cloud-access-key", AWS_KEY),
    ("cloud-access-key", f"aws_key_id {AWS_KEY} in the log"),
    ("cloud-access-key", GOOGLE_KEY),
    ("forge-token", GITHUB_PAT),
    ("forge-token", f"Authorization uses {GITHUB_APP}"),
    ("forge-token", "gh" + "o_" + "q" * 36),
    ("forge-token", "gh" + "u_" + "q" * 36),
    ("forge-token", GITHUB_FINE),
    ("forge-token", GITLAB_PAT),
    ("slack-token", SLACK_BOT),
    ("jwt", JWT),
    ("jwt", f"Bearer-less {JWT} in text"),
    ("url-credentials", "https://" + "deployer:" + PASSWORD + "@" + "git.example.com/repo"),
    ("url-credentials", "go-rollback-rehearsal://" + "someone" + "@ci/fallback"),
    ("secret-assignment", "pass" + "word=" + PASSWORD),
    ("secret-assignment", "GITHUB_" + "TOKEN=" + "abc123"),
    ("secret-assignment", "api_" + "key: abc123"),
    ("secret-assignment", '{"client_' + 'secret": "abc123"}'),
    ("secret-assignment", "Author" + "ization: Bearer abc123"),
    ("ipv4-address", "192.0.2.10"),
    ("ipv4-address", "listening on 198.51.100.7:8080"),
    ("ipv4-address", "connect to 203.0.113.1."),
    ("ipv4-address", "http://192.0.2.10/health"),
    ("ipv6-address", "2001:db8::1"),
    ("ipv6-address", "2001:db8:0:0:0:0:0:1"),
    ("ipv6-address", "[2001:db8::17]:443"),
    ("ipv6-address", "fe80::1%eth0"),
    ("ipv6-address", "::1"),
    ("hostname", "https://build01.corp.example.com/x"),
    ("hostname", "db01.prod.example.com"),
    ("hostname", "replica is db01.prod.example.com."),
    ("hostname", "api.internal"),
    ("hostname", "svc.cluster.local"),
    ("hostname", "example.com"),
    ("hostname", "http://localhost:8080/ready"),
    ("hostname", "https://buildserver/job/1"),
    ("hostname", "//files.example.com/share"),
    ("hostname", "db01.prod.example.com/status"),
    ("email-address", "ops" + "@" + "example.com"),
    ("email-address", "mail first.last+cavra" + "@" + "mail.example.org today"),
]

NEAR_MISSES: list[tuple[str, str]] = [
    ("private-key", "-----BEGIN PUBLIC KEY-----"),
    ("private-key", "-----BEGIN CERTIFICATE-----"),
    ("cloud-access-key", "AK" + "IA" + "X" * 15),
    ("cloud-access-key", "AK" + "IA" + "X" * 17),
    ("cloud-access-key", "ak" + "ia" + "x" * 16),
    ("forge-token", "gh" + "p_" + "a" * 10),
    ("forge-token", "gh" + "x_" + "a" * 36),
    ("forge-token", "gl" + "pat-" + "short"),
    ("slack-token", "xoxo-hugs"),
    ("slack-token", "xo" + "xb-" + "short"),
    ("jwt", _b64({"alg": "HS256"})),
    ("jwt", _b64({"alg": "HS256"}) + ".notjson.sig"),
    ("url-credentials", "go-rollback-rehearsal://ci/path@v2"),
    ("url-credentials", "https://git.example.com/repo@main"),
    ("secret-assignment", "token_count=3"),
    ("secret-assignment", "tokenizer: words"),
    ("secret-assignment", "pass" + "word="),
    ("secret-assignment", "pass" + 'word=""'),
    ("secret-assignment", "GITHUB_" + "TOKEN=${GITHUB_TOKEN}"),
    ("secret-assignment", "pass" + "word=<redacted>"),
    ("secret-assignment", "pass" + "word: ***"),
    ("secret-assignment", "the password was rotated"),
    ("secret-assignment", "api_" + "key: '...'"),
    ("ipv4-address", "1.2.3"),
    ("ipv4-address", "256.1.1.1"),
    ("ipv4-address", "10.0.0.1a"),
    ("ipv4-address", "1.2.3.4.5"),
    ("ipv4-address", "v10.0.0.1"),
    ("ipv6-address", "15:40:00"),
    ("ipv6-address", "2026-05-21T15:40:00Z"),
    ("ipv6-address", "aa:bb:cc:dd:ee:ff"),
    ("ipv6-address", "std::vector"),
    ("ipv6-address", "Topic :: Name"),
    ("ipv6-address", "12345::1"),
    ("ipv6-address", "sha256:" + "ab" * 32),
    ("hostname", "docs/go-backend-rollback-rehearsal.md"),
    ("hostname", "report.schema.json"),
    ("hostname", "README.md"),
    ("hostname", "go-rollback-rehearsal://ci/fallback-restored"),
    ("hostname", "cavra.go-backend-rollback-rehearsal.v1"),
    ("hostname", "cavra_drill.store.atomic"),
    ("hostname", "e.g. this one"),
    ("hostname", "6.25"),
    ("hostname", "rehearsal-sandbox"),
    ("email-address", "release-agent@2"),
    ("email-address", "pkg@1.2.3"),
    ("email-address", "user@localhost"),
    ("email-address", "@scope/pkg"),
]

# What cavra-drill itself writes into evidence, history and reports: none of it may trip the gate.
OWN_VALUES = [
    "go-rollback-rehearsal://ci/fallback-restored",
    "go-production-readiness://ci/after-rehearsal",
    "go-production-readiness://rehearsal-sandbox/drill_20261129T160102Z_ab12cd/after-rehearsal",
    "go-rollback-drill://ci/python-fallback-restored",
    "docs/go-backend-rollback-rehearsal.md",
    "runbooks/go-backend-python-fallback.md",
    "./cavra-drill-out/go-backend-rollback-rehearsal.json",
    "cavra.go-backend-rollback-rehearsal.v1",
    "cavra.go-backend-rollback-drill-history.v1",
    "cavra.go-backend-pilot.rollback-readiness.v1",
    "cavra.deployment.production_readiness.v1",
    "1.2.3",
    "v0.1.0",
    "0.1.0",
    "2026-11-29T16:01:02Z",
    "2026-11-29T16:01:02.123456+00:00",
    "2099-02-01T00:00:00+00:00",
    "2026-05-21",
    "15:40:00",
    "sha256:" + "0123456789abcdef" * 4,
    "0123456789abcdef" * 4,
    "6.25",
    "0.0123",
    "apr_go_backend_rollback",
    "drill_20261129T160102Z_ab12cd",
    "production-pilot",
    "release-agent",
    "Set CAVRA_GO_BACKEND_MODE=disabled.",
    "Restart API, CI runner, or workstation process using CAVRA.",
    "Capture rollback readiness and production readiness reports.",
    "Rollback rehearsal evidence proves Python fallback restoration within the approved recovery target.",
    "rollback rehearsal recovery_minutes must be positive and less than or equal to max_recovery_minutes",
    "metadata JSON is invalid: Expecting value: line 1 column 1 (char 0)",
    "go backend pilot is disabled",
]


@pytest.mark.parametrize(("rule", "text"), POSITIVES)
def test_rule_fires_on_its_target(rule: str, text: str) -> None:
    assert rule in scan_text(text)


@pytest.mark.parametrize(("rule", "text"), NEAR_MISSES)
def test_rule_ignores_near_miss(rule: str, text: str) -> None:
    assert rule not in scan_text(text)


def test_every_rule_has_a_positive_and_a_near_miss() -> None:
    assert {rule for rule, _ in POSITIVES} == set(RULE_NAMES)
    assert {rule for rule, _ in NEAR_MISSES} == set(RULE_NAMES)


@pytest.mark.parametrize("text", OWN_VALUES)
def test_values_cavra_drill_writes_pass(text: str) -> None:
    assert scan_text(text) == []


def test_ipv4_with_an_alphabetic_suffix_is_a_version_not_an_address() -> None:
    # Decided: `10.0.0.1a` is one token that is not an address; the bare address is one.
    assert scan_text("10.0.0.1a") == []
    assert scan_text("10.0.0.1") == ["ipv4-address"]


def test_contract_sample_documents_pass() -> None:
    evidence = {
        "schema_version": "cavra.go-backend-rollback-rehearsal.v1",
        "status": "pass",
        "plan_approval_id": "apr_go_backend_rollback",
        "simulated": True,
        "fallback_verified": True,
        "recovery_minutes": 6,
        "max_recovery_minutes": 15,
        "runbook_ref": "docs/go-backend-rollback-rehearsal.md",
        "evidence_refs": [
            "go-rollback-rehearsal://ci/fallback-restored",
            "go-production-readiness://ci/after-rehearsal",
        ],
        "phases": [{"name": "rollback", "duration_seconds": 0.41, "detail": "mode=disabled"}],
        "digests": {"policy": "sha256:" + "f" * 64},
    }
    history = {
        "schema_version": "cavra.go-backend-rollback-drill-history.v1",
        "environment": "production-pilot",
        "drills": [
            {
                "drill_id": "drill_go_backend_python_fallback",
                "executed_at": "2026-05-21T15:40:00Z",
                "actor": "release-agent",
                "source_mode": "promoted",
                "target_mode": "disabled",
                "status": "pass",
                "fallback_verified": True,
                "recovery_minutes": 7,
                "max_recovery_minutes": 15,
                "runbook_ref": "docs/go-backend-rollback-drill-history.md",
                "evidence_refs": ["go-rollback-drill://ci/python-fallback-restored"],
            }
        ],
    }
    assert scan_value(evidence) == []
    assert scan_value(history) == []
    check_safe(evidence, artifact="rehearsal evidence out/evidence.json")


def test_findings_carry_json_paths_in_document_order() -> None:
    document = {
        "actor": "ops" + "@" + "example.com",
        "evidence_refs": ["go-rollback-rehearsal://ci/ok", "https://build01.corp.example.com/x"],
        "phases": [{"name": "baseline", "detail": "probe 192.0.2.10 answered"}],
        "a key": "2001:db8::1",
    }
    assert scan_value(document) == [
        SafetyFinding("actor", "email-address"),
        SafetyFinding("evidence_refs[1]", "hostname"),
        SafetyFinding("phases[0].detail", "ipv4-address"),
        SafetyFinding('["a key"]', "ipv6-address"),
    ]


def test_scan_value_prefixes_the_given_path() -> None:
    assert scan_value(["192.0.2.1"], "drills[3].evidence_refs") == [
        SafetyFinding("drills[3].evidence_refs[0]", "ipv4-address")
    ]


def test_unsafe_keys_are_reported_without_naming_them() -> None:
    host = "db01.prod.example.com"
    document = {"hosts": {host: {"address": "192.0.2.5"}}}
    findings = scan_value(document)
    assert findings == [
        SafetyFinding("hosts.<key #0>", "hostname"),
        SafetyFinding("hosts.<key #0>.address", "ipv4-address"),
    ]
    assert all(host not in finding.describe() for finding in findings)


def test_secret_named_keys_with_a_value_are_secret_assignments() -> None:
    assert scan_value({"api_key": "abc123", "nested": {"dbPassword": PASSWORD}}) == [
        SafetyFinding("api_key", "secret-assignment"),
        SafetyFinding("nested.dbPassword", "secret-assignment"),
    ]
    harmless = {"api_key": "", "token": None, "max_tokens": "5", "secret": "${VAULT_REF}"}
    assert scan_value(harmless) == []


def test_scalars_and_deep_nesting_are_handled() -> None:
    assert scan_value({"n": 1, "f": 6.25, "b": True, "z": None}) == []
    deep: object = "192.0.2.1"
    for _ in range(5000):
        deep = [deep]
    findings = scan_value(deep)
    assert [finding.rule for finding in findings] == ["ipv4-address"]
    assert findings[0].field == "[0]" * 5000


@pytest.mark.parametrize(("rule", "text"), POSITIVES)
def test_describe_names_field_and_rule_never_the_value(rule: str, text: str) -> None:
    findings = [f for f in scan_value({"evidence_refs": [text]}) if f.rule == rule]
    assert findings
    message = findings[0].describe()
    assert message == f"evidence_refs[0]: looks like {RULE_NAMES[rule]}"
    assert text not in message


def test_check_safe_refuses_with_one_line_naming_the_first_field() -> None:
    document = {
        "runbook_ref": "docs/ok.md",
        "evidence_refs": [GITHUB_PAT, "192.0.2.10", "ops" + "@" + "example.com"],
    }
    with pytest.raises(InputError) as caught:
        check_safe(document, artifact="rehearsal evidence out/evidence.json")
    message = caught.value.message
    assert message == (
        "rehearsal evidence out/evidence.json: refusing to write: "
        "evidence_refs[0]: looks like a GitHub or GitLab token (and 2 more)"
    )
    assert caught.value.exit_code == EXIT_INPUT
    assert "\n" not in message
    assert GITHUB_PAT not in message


def test_check_safe_with_a_single_finding_has_no_count() -> None:
    with pytest.raises(InputError) as caught:
        check_safe({"actor": AWS_KEY}, artifact="drill history h.json")
    assert caught.value.message == ("drill history h.json: refusing to write: actor: looks like a cloud access key")


def test_check_safe_accepts_safe_values() -> None:
    check_safe({"environment": "production-pilot", "drills": []}, artifact="drill history")


@pytest.mark.parametrize("label", ["production-pilot", "release-agent", "ci", "staging_eu", "pilot-2026", "v1.2"])
def test_check_label_accepts_logical_names(label: str) -> None:
    assert check_label(label, option="--environment") is None


@pytest.mark.parametrize(
    ("label", "looks_like"),
    [
        ("db01.prod.example.com", "a hostname"),
        ("ci.runner", "a hostname"),
        ("localhost", "a hostname"),
        ("192.0.2.44", "an IPv4 address"),
        ("2001:db8::2", "an IPv6 address"),
        ("ops" + "@" + "example.com", "an e-mail address"),
        (GITLAB_PAT, "a GitHub or GitLab token"),
    ],
)
def test_check_label_refuses_hosts_addresses_and_secrets(label: str, looks_like: str) -> None:
    error = check_label(label, option="--actor")
    assert error is not None
    assert error.startswith(f"--actor: looks like {looks_like};")
    assert label not in error
    assert "\n" not in error


_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=24)


@given(
    scheme=st.sampled_from(["go-rollback-rehearsal", "go-production-readiness", "go-rollback-drill"]),
    segments=st.lists(_SEGMENT, min_size=1, max_size=4),
)
def test_opaque_refs_never_trip_the_gate(scheme: str, segments: list[str]) -> None:
    assert scan_text(f"{scheme}://{'/'.join(segments)}") == []


@given(
    moment=st.datetimes(),
    number=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    digest=st.binary(min_size=32, max_size=32),
)
def test_timestamps_numbers_and_digests_never_trip_the_gate(moment: datetime, number: float, digest: bytes) -> None:
    assert scan_text(str(moment)) == []
    assert scan_text(repr(number)) == []
    assert scan_text("sha256:" + digest.hex()) == []


@given(st.text(max_size=200))
def test_scan_text_never_raises_and_returns_known_rules(text: str) -> None:
    assert set(scan_text(text)) <= set(RULE_NAMES)
