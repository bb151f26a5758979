"""The public-safety gate: no artifact cavra-drill writes may hold secrets or infrastructure.

CAVRA's docs ask that evidence, history and plans hold no secrets, hostnames, IP addresses,
credentials in URLs, e-mail addresses or customer details; CAVRA itself never checks. cavra-drill
runs this gate on every artifact before writing it (`check_safe`) and on the logical names given
on the command line (`check_label`).

A finding names the JSON path and the rule, never the value: the message that reports a leaked
token must not leak it again into a CI log.

The rules trade a little recall for precision on the values cavra-drill itself writes (opaque
refs such as `go-rollback-rehearsal://ci/fallback-restored`, relative file paths, versions,
timestamps, digests, decimals), because a gate that refuses our own evidence would be switched
off. Only `re` is imported so that commands which merely validate files start fast.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cavra_drill.errors import InputError

RULE_NAMES: dict[str, str] = {
    "private-key": "a private key",
    "cloud-access-key": "a cloud access key",
    "forge-token": "a GitHub or GitLab token",
    "slack-token": "a Slack token",
    "jwt": "a JSON Web Token",
    "url-credentials": "credentials in a URL",
    "secret-assignment": "a secret assigned to a name (password, token, key)",
    "ipv4-address": "an IPv4 address",
    "ipv6-address": "an IPv6 address",
    "hostname": "a hostname",
    "email-address": "an e-mail address",
}


@dataclass(frozen=True)
class SafetyFinding:
    """One unsafe value: where it is (`field`, a JSON path) and which rule it broke."""

    field: str
    rule: str

    def describe(self) -> str:
        # Deliberately built from the path and the rule name only: the value stays out of logs.
        return f"{self.field or 'value'}: looks like {RULE_NAMES.get(self.rule, self.rule)}"


_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")

# AWS key ids (the prefixes AWS documents for access keys, roles, users...) and Google API keys.
_CLOUD_ACCESS_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)"
    r"[A-Z0-9]{16}(?![A-Za-z0-9])"
    r"|(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"
)

_FORGE_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,}"
    r"|github_pat_[A-Za-z0-9_]{22,}"
    r"|glpat-[A-Za-z0-9_-]{20,})"
)

_SLACK_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,})")

# Header and payload of a JWT are base64url JSON objects, so both start with `eyJ` (`{"`).
_JWT = re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")

_SECRET_NAME = (
    r"(?:password|passwd|passphrase|secret|api[_-]?key|access[_-]?key|secret[_-]?key"
    r"|private[_-]?key|signing[_-]?key|token|credentials?|authorization)"
)
# The name must END in the secret word (`GITHUB_TOKEN=`, `db_password:`), so that
# `token_count=3` or `tokenizer: x` are not findings; what precedes the word does not matter.
_SECRET_ASSIGNMENT = re.compile(r"(?i)" + _SECRET_NAME + r"[\"']?\s*[:=]\s*[\"']?([^\s\"',;&]+)")
_SECRET_KEY = re.compile(r"(?i)[\w.-]*" + _SECRET_NAME)

# `scheme://authority`; the authority ends at the path, query, fragment or any quoting.
_URL = re.compile(r"(?<![\w+.-])([A-Za-z][A-Za-z0-9+.-]*)://([^\s/?#\"'<>\\]*)")

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])"
)

# Four dotted numbers that are not part of a longer dotted run: `1.2.3.4.5` and `v10.0.0.1` are
# versions and `10.0.0.1a` is not an address, but `10.0.0.1:8080` and `10.0.0.1.` (end of a
# sentence) are addresses.
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?!\.?\w)")
_IPV4_FULL = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

# A maximal run of hex digits and colons with at least two colons; `_is_ipv6` then checks the
# group structure, which is what rejects times such as `15:40:00`.
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,}(?![\w:])")
_HEX = frozenset("0123456789abcdefABCDEF")

# A dotted run that is not a path component (`docs/x.y.z`), the domain of an e-mail address
# (that rule reports it) or the middle of a longer run. `//host` still counts as a host.
_DOTTED = re.compile(r"(?<![\w.@\\-])(?<!(?<!/)/)[\w-]+(?:\.[\w-]+)+(?![\w-])")

# Two-label names are hosts only under these; three labels or more are hosts whatever the last.
# fmt: off
_TLDS = frozenset(
    [
        "com", "net", "org", "io", "dev", "cloud", "app", "edu", "gov", "mil", "int", "info", "biz",
        "co", "ai", "me", "tv", "xyz", "site", "online", "tech", "internal", "local", "lan", "corp",
        "home", "intranet", "localdomain", "localhost", "example", "test", "invalid", "arpa", "uk",
        "de", "eu", "fr", "nl", "ca", "au", "jp", "cn", "ch", "se", "at", "be", "es", "dk", "fi",
        "ie", "nz",
    ]
)
# fmt: on
# File names with two dots (`report.schema.json`) are not hosts.
# fmt: off
_FILE_EXTENSIONS = frozenset(
    [
        "json", "md", "txt", "yaml", "yml", "toml", "ini", "cfg", "conf", "log", "csv", "tsv",
        "html", "htm", "xml", "rst", "py", "pyc", "pyi", "go", "js", "ts", "sh", "bash", "lock",
        "tmp", "bak", "gz", "tgz", "xz", "bz", "zst", "zip", "tar", "prom", "svg", "png", "jpg",
        "jpeg", "pdf", "out", "err", "pid", "sock", "pem", "crt", "key", "pub", "whl", "mod", "sum",
    ]
)
# fmt: on
_LOCALHOST_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# Schemes whose authority is always a network host, dotted or not (`https://buildserver/`).
# Opaque refs with their own schemes (`go-rollback-rehearsal://ci/...`) are not in this list.
# fmt: off
_NETWORK_SCHEMES = frozenset(
    [
        "http", "https", "ws", "wss", "ftp", "ftps", "sftp", "ssh", "git", "git+ssh", "git+https",
        "svn", "rsync", "telnet", "ldap", "ldaps", "smb", "nfs", "tcp", "udp", "grpc", "grpcs",
        "redis", "rediss", "amqp", "amqps", "mqtt", "mqtts", "postgres", "postgresql", "mysql",
        "mariadb", "mongodb", "mongodb+srv", "smtp", "smtps", "imap", "imaps", "pop3", "kafka",
        "nats",
    ]
)
# fmt: on
_PLAIN_KEY = re.compile(r"[A-Za-z_][\w-]*")
_PLACEHOLDER_VALUES = frozenset({"none", "null", "redacted", "[redacted]"})


def scan_text(text: str) -> list[str]:
    """The rule ids one string breaks, each once, in the order of `RULE_NAMES`."""
    # The `in` tests skip patterns that cannot match (no `=`/`:` means no assignment, no `.`
    # no address or host): most strings are short ids, and a 10,000-drill history is scanned
    # string by string when it is validated.
    found: set[str] = set()
    has_colon, has_dot = ":" in text, "." in text
    if "-----" in text and _PRIVATE_KEY.search(text):
        found.add("private-key")
    if _CLOUD_ACCESS_KEY.search(text):
        found.add("cloud-access-key")
    if _FORGE_TOKEN.search(text):
        found.add("forge-token")
    if _SLACK_TOKEN.search(text):
        found.add("slack-token")
    if has_dot and _JWT.search(text):
        found.add("jwt")
    if (has_colon or "=" in text) and any(not _is_placeholder(m.group(1)) for m in _SECRET_ASSIGNMENT.finditer(text)):
        found.add("secret-assignment")
    if has_dot and any(_is_ipv4(m) for m in _IPV4.finditer(text)):
        found.add("ipv4-address")
    if has_colon and any(_is_ipv6(m.group(0)) for m in _IPV6_CANDIDATE.finditer(text)):
        found.add("ipv6-address")
    if "@" in text and _EMAIL.search(text):
        found.add("email-address")
    if "://" in text:
        for match in _URL.finditer(text):
            found.update(_url_rules(match.group(1).lower(), match.group(2)))
    if has_dot and "hostname" not in found and any(_is_bare_hostname(m.group(0)) for m in _DOTTED.finditer(text)):
        found.add("hostname")
    # A path's file name may be dotted (`report.schema.json`), but a directory named like a host
    # (`/srv/db01.prod.corp.example/plan.json`) names one: check every component but the last.
    if (
        has_dot
        and "hostname" not in found
        and "/" in text
        and any(_is_bare_hostname(part) for part in text.split("/")[:-1] if "." in part)
    ):
        found.add("hostname")
    return [rule for rule in RULE_NAMES if rule in found]


def scan_value(value: object, path: str = "") -> list[SafetyFinding]:
    """Every finding in a parsed JSON value, in document order.

    Strings are scanned, dict keys too (a host can be a key), and a non-empty string under a
    secret-looking key (`"api_key": "..."`) is a `secret-assignment` even though the string alone
    looks harmless.
    """
    findings: list[SafetyFinding] = []
    # An explicit stack rather than recursion: a deeply nested document must not crash the gate.
    # Each entry carries the findings about its key, so that they come out in document order.
    stack: list[tuple[str, object, list[str]]] = [(path, value, [])]
    while stack:
        where, item, key_rules = stack.pop()
        findings.extend(SafetyFinding(where, rule) for rule in key_rules)
        if isinstance(item, str):
            findings.extend(SafetyFinding(where, rule) for rule in scan_text(item))
        elif isinstance(item, Mapping):
            children: list[tuple[str, object, list[str]]] = []
            for index, (raw_key, child) in enumerate(item.items()):
                key = str(raw_key)
                rules = scan_text(key)
                child_path = _key_path(where, key, index, unsafe=bool(rules))
                if (
                    isinstance(child, str)
                    and child.strip()
                    and not _is_placeholder(child.strip())
                    and _SECRET_KEY.fullmatch(key)
                ):
                    rules.append("secret-assignment")
                children.append((child_path, child, rules))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(f"{where}[{i}]", child, []) for i, child in enumerate(item)]))
    return findings


def check_safe(value: object, *, artifact: str, path: str = "") -> None:
    """Refuse (InputError) to write `artifact` if anything in `value` is unsafe.

    `path` prefixes the reported fields, so a caller that checks only the part it adds (one
    new drill of a long history) can still report `drills[12].actor`.
    """
    findings = scan_value(value, path)
    if not findings:
        return
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    raise InputError(f"{artifact}: refusing to write: {findings[0].describe()}{more}")


def check_label(text: str, *, option: str) -> str | None:
    """An error line when a logical name from the command line looks like a host, an address,
    an e-mail or a secret; None when it is fine.

    Labels are held to a stricter hostname rule than free text: any dotted name with an
    alphabetic last label (`ci.runner`) counts, since a logical name has no use for one.
    """
    rules = scan_text(text)
    stripped = text.strip().lower()
    if not rules and (stripped in _LOCALHOST_NAMES or _looks_dotted(stripped)):
        rules = ["hostname"]
    if not rules:
        return None
    return (
        f"{option}: looks like {RULE_NAMES[rules[0]]}; give a logical name such as "
        "production-pilot or release-agent, not a host, address, e-mail or secret"
    )


def _key_path(parent: str, key: str, index: int, *, unsafe: bool) -> str:
    if unsafe:
        # The key itself must not reach the message, so it is named by its position.
        segment = f"<key #{index}>"
        return f"{parent}.{segment}" if parent else segment
    if _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{parent}["{quoted}"]'


def _is_placeholder(value: str) -> bool:
    # `token=${GITHUB_TOKEN}`, `password=<redacted>`, `secret=***` name a secret without holding
    # it, and a value with no letter or digit (`key: "..."`) is punctuation, not a secret.
    return value[0] in "$<{%" or not any(char.isalnum() for char in value) or value.lower() in _PLACEHOLDER_VALUES


def _is_ipv4(match: re.Match[str]) -> bool:
    return all(int(octet) <= 255 for octet in match.groups())


def _is_ipv6(candidate: str) -> bool:
    if candidate.count("::") > 1:
        return False
    if "::" in candidate:
        head, tail = candidate.split("::")
        groups = (head.split(":") if head else []) + (tail.split(":") if tail else [])
        # `::` alone is too often punctuation (`Topic :: Name`) to call an address.
        if not groups or len(groups) > 7:
            return False
    else:
        groups = candidate.split(":")
        if len(groups) != 8:
            return False
    return all(1 <= len(group) <= 4 and set(group) <= _HEX for group in groups)


def _url_rules(scheme: str, authority: str) -> list[str]:
    rules: list[str] = []
    userinfo, _, hostport = authority.rpartition("@")
    if userinfo:
        # A user name alone is also refused: tokens are often passed as the user
        # (`https://<token>@host/`), and a real user name is a customer detail anyway.
        rules.append("url-credentials")
    if hostport.startswith("["):
        return rules  # an IPv6 literal: the ipv6 rule reports it
    host = hostport.partition(":")[0].rstrip(".").lower()
    if not host or _IPV4_FULL.fullmatch(host):
        return rules  # no host, or an IPv4 address the ipv4 rule reports
    labels = host.split(".")
    if (
        (len(labels) > 1 and not all(label.isdigit() for label in labels))
        or host in _LOCALHOST_NAMES
        or host.endswith(".localhost")
        or scheme in _NETWORK_SCHEMES
    ):
        rules.append("hostname")
    return rules


def _dns_labels(name: str) -> list[str] | None:
    labels = name.split(".")
    for label in labels:
        if "_" in label or label.startswith("-") or label.endswith("-") or len(label) > 63:
            return None
    last = labels[-1]
    if not (last.isascii() and last.isalpha()):
        return None  # versions, decimals, `...v1` schema ids, timestamps
    return labels


def _is_bare_hostname(name: str) -> bool:
    labels = _dns_labels(name)
    if labels is None:
        return False
    last = labels[-1].lower()
    if len(labels) >= 3:
        return last not in _FILE_EXTENSIONS
    return last in _TLDS


def _looks_dotted(name: str) -> bool:
    return "." in name and _dns_labels(name) is not None
