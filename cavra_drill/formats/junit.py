"""JUnit XML for CI test reports (Jenkins, GitLab): the drill's phases and the readiness checks.

The shape is the one Jenkins' xunit plug-in describes in its `junit-10` schema, which GitLab
and most CI systems also read: `testsuites` > `testsuite` (name, tests, failures, errors
required) > `testcase` (name required) holding `failure`/`skipped`/`system-out`. Two suites:
the rollback drill (one case per phase, then the verdict) and production readiness (one case
per check, the class name grouping them by report section). A `warn` in a report that blocks
readiness is a `failure`; a `warn` in a report that does not (not requested) is `skipped`
with its message, so it is visible without failing the build (see `drill_cases`).

No host name is written (the optional `hostname` attribute is left out) and every value goes
through ElementTree's escaping, after characters XML 1.0 cannot hold are replaced.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence

from cavra_drill.formats.drill_cases import FAILED, WARNED, DrillCase, drill_cases, readiness_cases

CLASS_PREFIX = "cavra_drill."
# Characters outside XML 1.0's Char production (C0 controls but tab/LF/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DRILL_PROPERTIES = (
    "drill_id",
    "executed_at",
    "environment",
    "status",
    "fallback_verified",
    "recovery_seconds",
    "recovery_minutes",
    "max_recovery_minutes",
    "incident",
    "faults",
)


def render_junit(
    evidence: Mapping[str, object],
    readiness: Mapping[str, object],
    *,
    failure: str | None,
) -> str:
    drill = drill_cases(evidence, failure=failure)
    checks = readiness_cases(readiness)
    root = ET.Element("testsuites", name="cavra-drill")
    drill_properties = [(key, _value(evidence.get(key))) for key in _DRILL_PROPERTIES]
    _suite(root, "rollback drill", drill, drill_properties, timestamp=evidence.get("executed_at"))
    _suite(
        root,
        "production readiness",
        checks,
        [("status", _value(readiness.get("status"))), ("schema_version", _value(readiness.get("schema_version")))],
        timestamp=evidence.get("executed_at"),
    )
    every = drill + checks
    root.set("tests", str(len(every)))
    root.set("failures", str(sum(c.outcome == FAILED for c in every)))
    root.set("errors", "0")
    root.set("time", _time(c.seconds for c in every))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(
    root: ET.Element,
    name: str,
    cases: Sequence[DrillCase],
    properties: Sequence[tuple[str, str]],
    *,
    timestamp: object,
) -> None:
    # Attribute order as CI readers show them: counts first, then time and timestamp.
    suite = ET.SubElement(
        root,
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(sum(c.outcome == FAILED for c in cases)),
        errors="0",
        skipped=str(sum(c.outcome == WARNED for c in cases)),
        time=_time(c.seconds for c in cases),
    )
    if isinstance(timestamp, str):
        suite.set("timestamp", _xml(timestamp))
    holder = ET.SubElement(suite, "properties")
    for key, value in properties:
        ET.SubElement(holder, "property", name=key, value=_xml(value))
    for case in cases:
        element = ET.SubElement(
            suite,
            "testcase",
            name=_xml(case.name),
            classname=_xml(CLASS_PREFIX + case.group),
            time=_time([case.seconds]),
        )
        body = "\n".join(f"{key}: {value}" for key, value in case.details)
        if case.outcome == FAILED:
            kind = "drill-phase" if case.group == "drill" else "readiness-check"
            failed = ET.SubElement(element, "failure", message=_xml(case.message), type=kind)
            failed.text = _xml(f"{case.message}\n{body}".rstrip())
        elif case.outcome == WARNED:
            ET.SubElement(element, "skipped", message=_xml(f"not blocking readiness: {case.message}"))
        if body and case.outcome != FAILED:
            ET.SubElement(element, "system-out").text = _xml(body)


def _time(seconds: Iterable[float]) -> str:
    # junit-10 types suite times as digits with an optional fraction: no exponent, no sign.
    return f"{max(sum(seconds), 0.0):.3f}"


def _value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
