"""Properties of the contract judges over arbitrary JSON (hypothesis).

- Whatever JSON a file holds, every judge and every report gives a result, never an exception,
  and the printed report is standard JSON.
- Lowering recovery_minutes never turns a passing rehearsal or drill into a failing one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import cavra_samples as samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cavra_drill.contract.documents import Document, parse_document
from cavra_drill.contract.history import judge_history
from cavra_drill.contract.plan import judge_plan
from cavra_drill.contract.rehearsal import judge_rehearsal
from cavra_drill.contract.reports import REPORTS, judge_all
from cavra_drill.contract.schedule import judge_schedule
from cavra_drill.formats.json_text import render_json

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(PROFILE, max_examples=400)

KEYS = sorted(
    set(samples.plan())
    | set(samples.rehearsal())
    | set(samples.drill())
    | set(samples.history())
    | set(samples.schedule())
    | {"approval", "approval_id", "routing_rules"}
)

timestamps = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, None])).map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.sampled_from(["2026-11-28T12:00:00Z", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "Z", "soon"]),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12), timestamps)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)
# Values at the edges of what the rules convert: ints beyond float range, timestamps at the
# ends of the calendar, non-finite floats, near-empty strings.
edges = st.sampled_from(
    [
        10**400,
        -(10**400),
        1e308,
        float("inf"),
        float("nan"),
        0,
        -0.0,
        True,
        "",
        " ",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31",
        "0001-01-01",
    ]
)
# Objects whose keys are the contract's field names, so that the rules see interesting values.
contract_objects = st.dictionaries(st.sampled_from(KEYS), edges | json_values, max_size=len(KEYS))


def _document(value: object, path: str) -> Document:
    """Through real bytes: non-finite floats become NaN/Infinity literals, as a file could hold them."""
    return parse_document(path, json.dumps(value).encode("utf-8"))


def _mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with one to three of its fields replaced (half the time by an edge value) or deleted."""
    for key in draw(st.lists(st.sampled_from(sorted(base)), min_size=1, max_size=3, unique=True)):
        if draw(st.integers(0, 5)) == 0:
            base.pop(key, None)
        else:
            base[key] = draw(edges | json_values)
    return base


def _documents(draw: st.DrawFn) -> dict[str, Document]:
    docs: dict[str, Document] = {}
    for name in ("plan", "rehearsal", "history", "schedule"):
        kind = draw(st.sampled_from(["sample", "sample", "object", "any", "unset"]))
        if kind == "unset":
            docs[name] = Document("", None, "metadata path is not configured")
            continue
        if kind == "sample":
            base: dict[str, Any] = {
                "plan": samples.plan,
                "rehearsal": samples.rehearsal,
                "history": samples.history,
                "schedule": samples.schedule,
            }[name]()
            if name == "history":
                drills = st.one_of(st.builds(samples.drill).map(lambda d: _mutated(draw, d)), json_values)
                base["drills"] = draw(st.lists(drills, max_size=4))
            value: object = _mutated(draw, base) if draw(st.booleans()) else base
        else:
            value = draw(contract_objects if kind == "object" else json_values)
        docs[name] = _document(value, f"{name}.json")
    return docs


@st.composite
def inputs(draw: st.DrawFn) -> tuple[str, datetime, dict[str, Document], float, float]:
    mode = draw(st.sampled_from(["disabled", "shadow", "enforce", "promoted"]))
    now = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
    floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([90.0, 14.0, 0.0])
    return mode, now, _documents(draw), draw(floats), draw(floats)


@THOROUGH
@given(inputs())
def test_every_judge_and_report_gives_a_result_for_any_json(
    case: tuple[str, datetime, dict[str, Document], float, float],
) -> None:
    mode, now, docs, max_age_days, due_soon_days = case
    plan = judge_plan(docs["plan"])
    assert isinstance(plan.valid, bool)
    assert isinstance(judge_rehearsal(docs["rehearsal"], plan).valid, bool)
    assert isinstance(judge_rehearsal(docs["rehearsal"], None).valid, bool)
    history = judge_history(docs["history"], now=now, max_age_days=max_age_days)
    assert isinstance(judge_schedule(docs["schedule"], history, now=now, due_soon_days=due_soon_days).valid, bool)

    judgements = judge_all(mode=mode, now=now, max_age_days=max_age_days, due_soon_days=due_soon_days, **docs)
    for build in REPORTS.values():
        report = build(judgements)
        assert report["status"] in ("not_requested", "ready", "due_soon", "needs_attention")
        text = render_json(report)
        json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(AssertionError(name)))
    for _, failure in judgements.failures():
        assert failure.message


@PROFILE
@given(json_values)
def test_arbitrary_json_files_load_and_judge(value: object) -> None:
    doc = _document(value, "x.json")
    assert (doc.data is None) == (doc.error is not None)
    judge_plan(doc)
    judge_rehearsal(doc, None)
    history = judge_history(doc, now=samples.NOW, max_age_days=90.0)
    judge_schedule(doc, history, now=samples.NOW, due_soon_days=14.0)


# ---- lowering recovery_minutes never turns a pass into a failure ---------------------------

positive = st.one_of(
    st.integers(min_value=1, max_value=10**6),
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False),
)
perturbations = st.dictionaries(
    st.sampled_from(["status", "simulated", "fallback_verified", "evidence_refs", "runbook_ref", "plan_approval_id"]),
    json_values,
    max_size=2,
)


@PROFILE
@given(
    recovery=positive,
    max_recovery=st.one_of(positive, json_values),
    plan_max=st.one_of(positive, json_values),
    fraction=st.floats(min_value=0.0, max_value=1.0, exclude_min=True),
    changes=perturbations,
)
def test_lowering_recovery_never_fails_a_passing_rehearsal(
    recovery: float, max_recovery: object, plan_max: object, fraction: float, changes: dict[str, object]
) -> None:
    plan_data = samples.plan()
    plan_data["max_recovery_minutes"] = plan_max
    plan = judge_plan(_document(plan_data, "plan.json"))

    def judged(minutes: float) -> tuple[bool, bool]:
        evidence = samples.rehearsal()
        evidence.update(changes, recovery_minutes=minutes, max_recovery_minutes=max_recovery)
        result = judge_rehearsal(_document(evidence, "ev.json"), plan)
        return result.valid, result.recovery_sla_met

    lower = recovery * fraction
    if lower <= 0:
        return
    before, after = judged(recovery), judged(lower)
    assert after[0] or not before[0]
    assert after[1] or not before[1]


@PROFILE
@given(
    recovery=positive,
    max_recovery=st.one_of(positive, json_values),
    fraction=st.floats(min_value=0.0, max_value=1.0, exclude_min=True),
    age_hours=st.floats(min_value=-1000, max_value=3000),
    changes=st.dictionaries(
        st.sampled_from(["status", "target_mode", "fallback_verified", "evidence_refs", "runbook_ref"]),
        json_values,
        max_size=2,
    ),
)
def test_lowering_recovery_never_fails_a_passing_drill(
    recovery: float, max_recovery: object, fraction: float, age_hours: float, changes: dict[str, object]
) -> None:
    executed_at = (samples.NOW - timedelta(hours=age_hours)).isoformat()

    def judged(minutes: float) -> tuple[bool, bool]:
        drill = samples.drill(executed_at, recovery_minutes=minutes, max_recovery_minutes=max_recovery, **changes)
        result = judge_history(_document(samples.history(drill), "h.json"), now=samples.NOW, max_age_days=90.0)
        return result.valid, result.recovery_sla_met

    lower = recovery * fraction
    if lower <= 0:
        return
    before, after = judged(recovery), judged(lower)
    assert after[0] or not before[0]
    assert after[1] or not before[1]
