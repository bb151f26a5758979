"""The HTML page, pure: what it shows, how it marks failures, what it escapes, what it never loads."""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import cavra_samples as samples
import pytest

from cavra_drill.cli.report import chain_of
from cavra_drill.contract.documents import Document, parse_document
from cavra_drill.contract.integrity import seal_record
from cavra_drill.contract.safety import check_safe
from cavra_drill.errors import InputError
from cavra_drill.formats.html_report import MAX_PROBLEMS, embedded_data, render_html_report
from cavra_drill.formats.recovery_chart import (
    CHART_LIMIT,
    NOT_A_HISTORY,
    READABLE,
    SKIP_NO_RECOVERY,
    SKIP_NO_TIME,
    SKIP_NOT_OBJECT,
    UNREADABLE,
    collect_drills,
)
from report.pages import judge, page_of, render


def at(days_ago: float) -> str:
    return samples.zulu(samples.NOW - timedelta(days=days_ago))


def drill(days_ago: float, drill_id: str, **changes: object) -> dict[str, Any]:
    return samples.drill(at(days_ago), drill_id=drill_id, **changes)


MIXED = samples.history(
    drill(9, "d-pass-1", recovery_minutes=6),
    drill(8, "d-failed", status="fail", fallback_verified=False, recovery_minutes=9),
    drill(7, "d-over", recovery_minutes=20),
    drill(6, "d-no-target", max_recovery_minutes=None, recovery_minutes=4),
    drill(5, "d-pass-2", recovery_minutes=7, max_recovery_minutes=10),
)


def marks(page: str, kind: str) -> int:
    return page.count(f'<g class="mark {kind}">')


# ---- what the page shows ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["promoted", "disabled"])
def test_every_check_of_every_section_appears_with_status_message_and_extras(mode: str) -> None:
    judgements = judge(mode=mode, history=MIXED)
    page = page_of(judgements)
    text = render_html_report(page)
    production = page.production
    sections = [production] + [
        production[key]
        for key in (
            "go_backend_rollback",
            "go_backend_rollback_rehearsal",
            "go_backend_rollback_drill_history",
            "go_backend_rollback_drill_schedule",
        )
    ]
    expected = [check for section in sections if isinstance(section, dict) for check in section["checks"]]
    rows = re.findall(r'<tr class="[^"]*" data-check="([^"]+)">(.*?)</tr>', text)
    assert [check_id for check_id, _ in rows] == [check["id"] for check in expected]  # all, in CAVRA's order
    assert len(rows) == 4 + 6 + 6 + 7 + 7
    for (_, row), check in zip(rows, expected, strict=True):
        assert f"<code>{check['id']}</code>" in row
        assert f"</span> {check['status']}</span>" in row
        assert html.escape(check["message"]) in row
        for key, value in check.items():
            if key not in ("id", "status", "message"):
                assert f"<dt>{key}</dt>" in row
                if isinstance(value, str) and value:
                    assert html.escape(value) in row


def test_shows_overall_rehearsal_history_schedule_status_recovery_and_evidence_refs() -> None:
    text = render()
    assert "<title>CAVRA production readiness (rollback): Ready</title>" in text
    assert 'class="banner s-ready"' in text
    assert text.count('<span class="badge s-ready">') == 8  # four tiles, four sections
    assert "6 min" in text and "target 15 min" in text and "40% of target" in text
    for ref in (
        samples.rehearsal()["evidence_refs"] + samples.drill()["evidence_refs"] + samples.plan()["evidence_refs"]
    ):
        assert f"<code>{ref}</code>" in text
    assert "sched_go_backend_rollback" in text and "release-engineering" in text
    assert "No rule failed" in text


def test_every_failed_rule_is_listed_by_file_and_field() -> None:
    judgements = judge(history=MIXED, schedule={"schema_version": "wrong"})
    failures = judgements.failures()
    assert len(failures) > 3
    text = render_html_report(page_of(judgements))
    assert f'<span class="count">{len(failures)}</span>' in text
    for artifact, failure in failures:
        assert f"<tr><td>{artifact}</td><td><code>{failure.field}</code></td><td>{failure.message}</td></tr>" in text
    assert 'class="banner s-needs_attention"' in text


# ---- the chart -------------------------------------------------------------------------------


def test_failed_drills_are_crosses_and_passed_drills_dots_each_with_a_title() -> None:
    text = render(history=MIXED)
    assert marks(text, "passed") == 2
    assert marks(text, "failed") == 3
    assert "d-failed at " in text and "failed (status &#x27;fail&#x27;)" in text
    assert "d-over at " in text and "failed (over its recovery target)" in text
    assert "d-no-target at " in text and "failed (no recovery target recorded)" in text
    assert len(re.findall(r"<title>[^<]*; passed within its target", text)) == 2
    # The shapes differ, not only the colours: a cross is a path, a dot a circle.
    for group in re.findall(r'<g class="mark failed">.*?</g>', text):
        assert "<path d=" in group and "<circle" not in group.replace('class="ring"', "")
    for group in re.findall(r'<g class="mark passed">.*?</g>', text):
        assert "<circle" in group and "<path" not in group
    # The legend names each shape in words.
    assert "(dot)" in text and "(cross)" in text and "<desc" in text


def test_drills_are_charted_in_executed_at_order_whatever_the_list_order() -> None:
    shuffled = samples.history(drill(1, "third"), drill(3, "first"), drill(2, "second"))
    series = collect_drills(judge(history=shuffled).history)
    assert [d.drill_id for d in series.drills] == ["first", "second", "third"]
    assert [d.latest for d in series.drills] == [False, False, True]


def test_the_latest_mark_is_the_drill_cavra_judges_first_on_a_tie() -> None:
    tie = samples.history(drill(1, "judged", status="fail"), drill(1, "same-second"))
    series = collect_drills(judge(history=tie).history)
    assert [(d.drill_id, d.latest) for d in series.drills] == [("judged", True), ("same-second", False)]
    assert "the one CAVRA judges" in render(history=tie)


def test_target_is_a_step_line_of_each_drills_own_target_broken_where_none() -> None:
    text = render(history=MIXED)
    (d,) = re.findall(r'<path class="target" d="([^"]+)"', text)
    # Five drills; the fourth has no target, so the line restarts (a second M) after it.
    assert d.count("H") == 4
    assert d.count("M") == 2
    assert "target 10 min</text>" in text  # labelled with the latest drill's target
    # Two target heights: 15 and 10 minutes.
    heights = {float(y) for y in re.findall(r"[ML][\d.]+ ([\d.]+)H", d)}
    assert len(heights) == 2


def test_linear_axis_for_comparable_minutes_log_axis_when_recovery_is_tiny() -> None:
    assert "linear scale" in render(history=MIXED)
    tiny = samples.history(drill(2, "a", recovery_minutes=0.0011), drill(1, "b", recovery_minutes=0.0009))
    text = render(history=tiny)
    assert "log scale" in text
    assert ">0.001</text>" in text and ">10</text>" in text


@pytest.mark.parametrize(
    ("recovery", "target"),
    [(10**400, 15), (1e-300, 15), (5e-324, 1e308), (1e308, 1e308), (0.5, 10**30)],
)
def test_extreme_minutes_never_crash_the_chart(recovery: float, target: float) -> None:
    history = samples.history(drill(2, "a", recovery_minutes=recovery, max_recovery_minutes=target), drill(1, "b"))
    text = render(history=history)
    assert text.startswith("<!DOCTYPE html>")
    assert "nan" not in re.sub(r"[a-z]nan|nan[a-z]", "", text.lower())
    assert "inf" not in re.findall(r'd="([^"]*)"', text)


def test_entries_that_cannot_be_charted_are_counted_by_reason() -> None:
    history = samples.history(
        7,
        samples.drill("yesterday", drill_id="no-time"),
        drill(2, "no-minutes", recovery_minutes="fast"),
        drill(1, "ok"),
    )
    series = collect_drills(judge(history=history).history)
    assert series.state == READABLE
    assert [d.drill_id for d in series.drills] == ["ok"]
    assert dict(series.skipped) == {SKIP_NOT_OBJECT: 1, SKIP_NO_TIME: 1, SKIP_NO_RECOVERY: 1}
    text = render(history=history)
    assert "3 of 4 history entries cannot be charted" in text


@pytest.mark.parametrize(
    ("raw", "state", "words"),
    [
        (
            b'{"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": [{"drill_id"',
            UNREADABLE,
            "metadata JSON is invalid",
        ),
        (b"\xff\xfe{}", UNREADABLE, "not UTF-8"),
        (
            b'{"schema_version": "cavra.go-backend-rollback-plan.v1", "drills": []}',
            NOT_A_HISTORY,
            "schema_version is not",
        ),
        (
            b'{"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": {"0": {}}}',
            NOT_A_HISTORY,
            "drills field is not a list",
        ),
    ],
)
def test_unreadable_or_foreign_history_gives_a_notice_instead_of_a_chart(raw: bytes, state: str, words: str) -> None:
    document = parse_document("drills.json", raw)
    judgements = judge(history=document)
    page = page_of(judgements)
    assert page.series.state == state
    text = render_html_report(page)
    assert "History unreadable." in text and words in text
    assert '<svg class="chart"' not in text
    assert 'class="banner s-needs_attention"' in text  # CAVRA's verdict on it is still shown


def test_missing_history_is_unreadable_and_unconfigured_history_is_only_absent() -> None:
    missing = page_of(judge(history=Document("drills.json", None, "metadata file is missing")))
    assert missing.series.state == UNREADABLE
    text = render(mode="disabled", history=None)
    assert "No drill history is configured" in text
    assert "History unreadable" not in text


def test_a_huge_history_charts_the_latest_200_and_says_so_quickly() -> None:
    count = 100_000
    drills = [drill(count / 1000 - i / 1000, f"d{i}", status="fail" if i % 17 == 0 else "pass") for i in range(count)]
    judgements = judge(history=samples.history(*drills))
    start = time.monotonic()
    text = render_html_report(page_of(judgements))
    elapsed = time.monotonic() - start
    assert marks(text, "passed") + marks(text, "failed") == CHART_LIMIT
    assert "the latest 200 of 100,000" in text
    assert "d99999 at" in text and "d99799 at" not in text
    assert len(text.encode()) < 300_000
    assert elapsed < 5.0  # measured ~0.3 s; generous for a shared 2-core machine


# ---- safety ----------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [name for name, _ in attrs]))


def parse_tags(text: str) -> list[tuple[str, list[str]]]:
    """Every start tag of the page with its attribute names, as a browser's tokenizer sees them."""
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser.tags


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</style><style>body{display:none}</style>",
    "' onmouseover='x",
    "]]><!--",
    "&amp;&lt;",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_value_from_the_files_is_escaped(hostile: str) -> None:
    plan = samples.plan() | {"approval_id": hostile, "evidence_refs": [hostile]}
    rehearsal = samples.rehearsal() | {"plan_approval_id": hostile, "runbook_ref": hostile, "evidence_refs": [hostile]}
    history = samples.history(drill(2, hostile, status=hostile), drill(1, hostile, runbook_ref=hostile))
    history["environment"] = hostile
    schedule = samples.schedule() | {"schedule_id": hostile, "owners": [hostile], "notification_providers": [hostile]}
    text = render(plan=plan, rehearsal=rehearsal, history=history, schedule=schedule)
    assert hostile not in text
    tags = parse_tags(text)
    assert not {"script", "img", "iframe", "object", "embed", "link"} & {tag for tag, _ in tags}
    assert not [name for _, attrs in tags for name in attrs if name.startswith("on")]
    assert [tag for tag, _ in tags].count("style") == 1
    assert "<!--" not in text
    escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped.replace('"', "&quot;").replace("'", "&#x27;") in text


def test_page_loads_nothing_from_anywhere() -> None:
    text = render(history=MIXED)
    assert "http://" not in text and "https://" not in text
    for needle in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "src=", "href=", "url(", "@import"):
        assert needle not in text.lower()
    assert "default-src 'none'" in text  # the browser is told to refuse any load, too


def test_a_lone_surrogate_still_gives_a_page_that_encodes() -> None:
    raw = samples.history(drill(1, "x"))
    raw["drills"][0]["drill_id"] = "\ud800"
    text = render(history=raw)
    text.encode("utf-8")


def test_embedded_data_holds_what_the_page_shows_so_the_gate_sees_it() -> None:
    # An old drill appears only in the chart: the gate must still see it, and name it by field.
    history = samples.history(drill(2, "db1.corp.example.com"), drill(1, "fine"))
    page = page_of(judge(history=history))
    with pytest.raises(InputError, match=r"^report: refusing to write: drills\[0\]\.drill_id: looks like a hostname$"):
        check_safe(embedded_data(page), artifact="report")
    # The latest drill is echoed by the reports too; the message never repeats the value.
    page = page_of(judge(history=samples.history(drill(1, "db1.corp.example.com"))))
    with pytest.raises(InputError) as caught:
        check_safe(embedded_data(page), artifact="report")
    assert "latest_drill_id: looks like a hostname" in caught.value.message
    assert "db1" not in caught.value.message


def test_the_samples_are_public_safe_as_a_page() -> None:
    check_safe(embedded_data(page_of(judge(history=MIXED))), artifact="report")


# ---- the history's hash chain ----------------------------------------------------------------


def sealed(count: int) -> dict[str, Any]:
    entries: list[object] = []
    for i in range(count):
        entries.append(seal_record(drill(count - i, f"s{i}"), entries))
    return samples.history(*entries)


def test_a_broken_chain_is_announced_listed_and_embedded_for_the_gate() -> None:
    history = sealed(30)
    for entry in history["drills"]:
        entry["recovery_minutes"] = 1  # every record edited after it was sealed
    document = samples.document(history, "drills.json")
    judgements = judge(history=document)
    page = replace(page_of(judgements), integrity=chain_of(document))
    assert page.integrity is not None and len(page.integrity.problems) == 30
    text = render_html_report(page)
    assert "History tampered with." in text and "30 problems in its hash chain" in text
    assert "broken: 30 problems" in text
    assert text.count("<td><code>drills[") == MAX_PROBLEMS
    assert "and 10 more" in text
    data = embedded_data(page)
    assert len(data["integrity_problems"]) == MAX_PROBLEMS  # type: ignore[arg-type]
    assert "s0" in str(data["integrity_notice"])


def test_an_intact_chain_and_an_unsealed_history_are_named_as_such() -> None:
    document = samples.document(sealed(3), "drills.json")
    text = render_html_report(replace(page_of(judge(history=document)), integrity=chain_of(document)))
    assert "intact: 3 sealed" in text and "History tampered" not in text
    legacy = samples.document(samples.history(), "drills.json")
    text = render_html_report(replace(page_of(judge(history=legacy)), integrity=chain_of(legacy)))
    assert "not sealed (no record_sha256)" in text


def test_nan_in_a_sealed_record_is_an_edit_and_in_a_legacy_entry_is_not_a_crash() -> None:
    raw = json.dumps(sealed(2)).replace('"recovery_minutes": 7', '"recovery_minutes": NaN', 1).encode()
    chain = chain_of(parse_document("drills.json", raw))
    assert chain is not None and [(p.index, p.kind) for p in chain.problems] == [(0, "edited")]
    legacy = json.dumps(samples.history()).replace('"recovery_minutes": 7', '"recovery_minutes": Infinity').encode()
    chain = chain_of(parse_document("drills.json", legacy))
    assert chain is not None and chain.intact and chain.chained == 0
