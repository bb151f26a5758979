"""`cavra-drill run`: preflight, drill, evidence, history, readiness, outputs.

Order matters for "nothing half-written": every input is judged and every output path is
checked before the drill starts; the drill's processes are all gone before the first file is
written; each file is replaced atomically; the history append is locked.
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cavra_drill.cli import signals
from cavra_drill.cli.options import ReadinessSettings
from cavra_drill.cli.run_engine import run_engine
from cavra_drill.cli.run_outputs import preflight_outputs, resolve_outputs, write_outputs
from cavra_drill.contract import settings as cs
from cavra_drill.contract.documents import Document
from cavra_drill.contract.plan import PlanJudgement, judge_plan
from cavra_drill.contract.reports import Report, exit_ok, production_report
from cavra_drill.contract.safety import check_label, check_safe
from cavra_drill.contract.timestamps import format_zulu
from cavra_drill.drill.evidence import DrillIdentity, build_evidence, build_record, sha256_hex
from cavra_drill.drill.outcome import PASS, DrillOutcome
from cavra_drill.drill.runbook import load_runbook
from cavra_drill.drill.sandbox_target import SandboxFaults
from cavra_drill.errors import EXIT_FAILED, EXIT_OK, DrillError, EnvironmentFault, InputError, Interrupted, UsageError
from cavra_drill.formats.json_text import render_json
from cavra_drill.store.atomic import check_writable, write_atomic, write_json_atomic
from cavra_drill.store.documents import NotAFile, Unreadable, read_document, read_file_bytes
from cavra_drill.store.history_store import HistoryLocked, append_drill_locked, history_lock, read_history_for_append

DEFAULT_WORKDIR = "cavra-drill-out"
DEFAULT_ENVIRONMENT = "rehearsal-sandbox"
PLAN_FILE = "go-backend-rollback-plan.json"
EVIDENCE_FILE = "go-backend-rollback-rehearsal.json"
HISTORY_FILE = "go-backend-rollback-drills.json"
READINESS_FILE = "production-readiness.json"
INCIDENTS = ("go-runtime-crash", "go-runtime-hang", "go-runtime-diverge")
# Logical names only: no dots (hostnames, IPs), no @ (e-mail), nothing a URL would escape.
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

# CAVRA's documented sample plan (contract §3), written when no plan is configured.
SAMPLE_PLAN: dict[str, object] = {
    "schema_version": "cavra.go-backend-rollback-plan.v1",
    "status": "ready",
    "target_mode": "disabled",
    "approved": True,
    "approval_id": "apr_go_backend_rollback",
    "max_recovery_minutes": 15,
    "controls": [
        "python-fallback-available",
        "promoted-mode-disable-tested",
        "rollback-approval-recorded",
        "operator-runbook-linked",
        "evidence-capture-enabled",
    ],
    "rollback_steps": [
        "Set CAVRA_GO_BACKEND_MODE=disabled.",
        "Restart API, CI runner, or workstation process using CAVRA.",
        "Capture rollback readiness and production readiness reports.",
    ],
    "evidence_refs": ["go-rollback-readiness://ci/ready", "go-promotion-rollback-runbook://docs/current"],
}


@dataclass(frozen=True)
class RunOptions:
    workdir: str | None = None
    plan: str | None = None
    rehearsal: str | None = None
    history: str | None = None
    schedule: str | None = None
    mode: str | None = None
    environment: str | None = None
    actor: str | None = None
    max_recovery_minutes: float | None = None
    incident: str | None = None
    faults: tuple[str, ...] = ()
    runbook: str | None = None
    """None: the built-in sandbox runbook."""
    keep_sandbox: bool = False
    lock_timeout: float = 30.0
    as_json: bool = False
    junit: str | None = None
    summary: str | None = None
    """None: `$GITHUB_STEP_SUMMARY` when set; empty: no summary."""
    metrics: str | None = None
    attestation: str | None = None


@dataclass(frozen=True)
class RunResult:
    evidence: dict[str, object]
    record: dict[str, object]
    readiness: Report
    outcome: DrillOutcome
    files: dict[str, str]
    history_head: str | None = None
    """`record_sha256` of the appended history record, when the history chains its records."""
    output_errors: tuple[DrillError, ...] = ()
    """CI outputs that could not be written (evidence, history and readiness were)."""

    @property
    def exit_code(self) -> int:
        if self.output_errors:
            # The drill's record is complete, but an output CI asked for is missing: exit with
            # that error's code (3 path, 4 environment) so the job cannot look green.
            return self.output_errors[0].exit_code
        return EXIT_OK if self.evidence["status"] == PASS and exit_ok(self.readiness) else EXIT_FAILED


def parse_faults(values: tuple[str, ...]) -> SandboxFaults:
    stop = slow = broken = None
    for value in values:
        if value == "stop-ignores-sigterm":
            stop = True
        elif value == "fallback-broken":
            broken = True
        elif value.startswith("slow-restart="):
            raw = value.removeprefix("slow-restart=")
            try:
                slow = float(raw)
            except ValueError:
                raise UsageError(f"--fault slow-restart: {raw!r} is not a number of seconds") from None
            if not 0 < slow < 86_400:
                raise UsageError("--fault slow-restart: seconds must be positive and under a day")
        else:
            raise UsageError(
                f"--fault: unknown fault {value!r} (stop-ignores-sigterm, slow-restart=SECONDS, fallback-broken)"
            )
    return SandboxFaults(bool(stop), slow, bool(broken))


def resolve_actor(flag: str | None, env: Mapping[str, str]) -> tuple[str, str]:
    """(actor, where it came from): --actor, CAVRA_DRILL_ACTOR, GITHUB_ACTOR, then the OS user."""
    for source, value in (
        ("--actor", flag),
        ("CAVRA_DRILL_ACTOR", env.get("CAVRA_DRILL_ACTOR")),
        ("GITHUB_ACTOR", env.get("GITHUB_ACTOR")),
    ):
        if value:
            return value, source
    try:
        return getpass.getuser(), "the OS user name"
    except (OSError, KeyError):
        return "unknown-operator", "a fallback"


def check_logical_name(value: str, source: str) -> None:
    """Environment and actor are recorded in public evidence: logical names only."""
    problem = check_label(value, option=source)
    if problem is None and not LABEL.match(value):
        # The value is not echoed: whatever it is, it failed to be a plain name.
        problem = f"{source}: not a logical name (letters, digits, '-' and '_', at most 64, no dots or '@')"
    if problem is not None:
        raise InputError(problem)


def _approved_plan(plan_path: str) -> tuple[Document, PlanJudgement]:
    document = read_document(plan_path)
    judgement = judge_plan(document)
    if not judgement.valid or not judgement.approved:
        reasons = "; ".join(f.describe() for f in judgement.failures) or judgement.message
        raise InputError(f"rollback plan {plan_path}: cannot drill on this plan: {reasons}")
    return document, judgement


def _target_minutes(plan: PlanJudgement, flag: float | None) -> float | int:
    plan_max = plan.max_recovery_minutes
    assert plan_max is not None  # a valid plan has one
    if flag is None:
        return plan_max
    if not flag > 0:
        raise UsageError("--max-recovery-minutes must be a positive number")
    if flag > plan_max:
        raise UsageError(
            f"--max-recovery-minutes {flag:g} would loosen the plan's target of {plan_max:g} minutes;"
            " it may only tighten it"
        )
    return flag


def show_progress(options: RunOptions) -> bool:
    """Live phase lines only for a person at a terminal; CI logs get the summary once."""
    return sys.stderr.isatty() and not options.as_json


def _new_drill_id(now: datetime) -> str:
    return f"drill_{now.strftime('%Y%m%dT%H%M%SZ')}_{secrets.token_hex(3)}"


def execute(options: RunOptions, *, env: Mapping[str, str] | None = None) -> RunResult:
    """Run one drill and record it. A signal at any moment gives Interrupted (exit 130), and
    every file is then either as it was or complete (see `signals.py`)."""
    with signals.raising_signals():
        try:
            return _execute(options, env)
        except (signals.Signalled, KeyboardInterrupt) as exc:
            what = str(exc) or "SIGINT"
            raise Interrupted(f"interrupted by {what}; every file is as it was or complete") from None


def _execute(options: RunOptions, env: Mapping[str, str] | None) -> RunResult:
    environ = os.environ if env is None else env
    workdir = Path(options.workdir or DEFAULT_WORKDIR)
    faults = parse_faults(options.faults)
    if options.incident is not None and options.incident not in INCIDENTS:
        raise UsageError(f"--incident: unknown incident {options.incident!r} ({', '.join(INCIDENTS)})")
    if not options.lock_timeout >= 0:
        raise UsageError("--lock-timeout must be a non-negative number of seconds")
    runbook = load_runbook(options.runbook)
    if runbook.kind != "sandbox" and (options.incident is not None or options.faults):
        raise UsageError("--incident and --fault rehearse the sandbox only; this runbook drills real commands")
    environment = options.environment or DEFAULT_ENVIRONMENT
    check_logical_name(environment, "--environment")
    actor, actor_source = resolve_actor(options.actor, environ)
    check_logical_name(actor, actor_source)

    def path(flag: str | None, name: str, default: str) -> str:
        value = flag if flag is not None else cs.setting_from(environ, name)
        return value or str(workdir / default)

    plan_path = path(options.plan, cs.ENV_PLAN, PLAN_FILE)
    evidence_path = Path(path(options.rehearsal, cs.ENV_REHEARSAL, EVIDENCE_FILE))
    history_path = Path(path(options.history, cs.ENV_HISTORY, HISTORY_FILE))
    schedule_path = options.schedule if options.schedule is not None else cs.setting_from(environ, cs.ENV_SCHEDULE)
    readiness_path = workdir / READINESS_FILE
    outputs = resolve_outputs(
        junit=options.junit,
        summary=options.summary,
        metrics=options.metrics,
        attestation=options.attestation,
        env=environ,
    )
    mode = cs.normalize_mode(options.mode if options.mode is not None else environ.get(cs.ENV_MODE))

    # Preflight: everything that can refuse the drill does so before anything is written.
    # Paths come first: reports echo them, and the default plan is written under the workdir.
    check_safe(
        {
            "--workdir": str(workdir),
            "--plan": plan_path,
            "--rehearsal": str(evidence_path),
            "--history": str(history_path),
            "--schedule": schedule_path,
        },
        artifact="paths echoed in reports",
    )
    plan_configured = options.plan is not None or bool(cs.setting_from(environ, cs.ENV_PLAN))
    if plan_configured:
        # A configured plan is judged before the workdir is even created: refused means untouched.
        _approved_plan(plan_path)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create workdir {workdir}: {exc.strerror}") from None
    if runbook.kind != "sandbox":
        # Runbook commands write their output here; find out now, not halfway through a rollback.
        try:
            (workdir / "logs").mkdir(exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create {workdir / 'logs'} for the runbook's command output: {exc.strerror}"
            ) from None
    for target, what in (
        (evidence_path, "rehearsal evidence"),
        (history_path, "drill history"),
        (readiness_path, "production readiness report"),
    ):
        check_writable(target, what=what)
    preflight_outputs(
        outputs,
        {
            "rollback plan": Path(plan_path),
            "rehearsal evidence": evidence_path,
            "drill history": history_path,
            "drill history lock": Path(f"{history_path}.lock"),
            "production readiness report": readiness_path,
        },
    )
    if not plan_configured and not Path(plan_path).exists():
        write_json_atomic(Path(plan_path), SAMPLE_PLAN, what="default rollback plan")
    _, plan = _approved_plan(plan_path)
    plan_sha256 = _plan_digest(plan_path) if outputs.attestation is not None else None
    target_minutes = _target_minutes(plan, options.max_recovery_minutes)
    existing = read_history_for_append(history_path)
    recorded = existing.get("environment") if existing is not None else None
    if recorded is not None and recorded != environment:
        # A drill of one environment must not count as another's rehearsal in CAVRA's gate.
        raise InputError(
            f"drill history {history_path}: records environment {recorded!r}, not {environment!r}; "
            "pass --environment to match it or use another history"
        )

    def readiness_now() -> Report:
        """CAVRA's production readiness (rollback part) for this run's files, as of now."""
        return production_report(
            ReadinessSettings(
                mode=mode,
                plan=plan_path,
                rehearsal=str(evidence_path),
                history=str(history_path),
                schedule=schedule_path,
                max_age_days=cs.parse_float_setting(environ.get(cs.ENV_MAX_AGE_DAYS), cs.DEFAULT_MAX_AGE_DAYS),
                due_soon_days=cs.parse_float_setting(environ.get(cs.ENV_DUE_SOON_DAYS), cs.DEFAULT_DUE_SOON_DAYS),
                now=datetime.now(UTC),
            ).judge()
        )

    # What the readiness report echoes from the inputs (their paths, plan and schedule fields)
    # is the same before and after the drill: gate it now, so an unsafe value refuses the drill
    # before anything is written rather than after the evidence and history are.
    check_safe(readiness_now(), artifact="production readiness report")

    started = datetime.now(UTC)
    drill_id = _new_drill_id(started)
    from cavra_drill.drill.engine import DrillPlan

    if show_progress(options):
        sys.stderr.write(f"cavra-drill: drilling {runbook.name} ({drill_id}), recovery target {target_minutes:g} min\n")
    runtime_timeout = cs.parse_float_setting(environ.get(cs.ENV_RUNTIME_TIMEOUT), cs.DEFAULT_RUNTIME_TIMEOUT_SECONDS)
    outcome = run_engine(
        DrillPlan(
            drill_id=drill_id,
            sandbox_root=workdir / "sandbox" / drill_id,
            target_seconds=target_minutes * 60,
            runtime_timeout_seconds=runtime_timeout if runtime_timeout > 0 else cs.DEFAULT_RUNTIME_TIMEOUT_SECONDS,
            incident=options.incident,
            stop_ignores_sigterm=faults.stop_ignores_sigterm,
            slow_restart_seconds=faults.slow_restart_seconds,
            fallback_broken=faults.fallback_broken,
            keep_sandbox=options.keep_sandbox,
            runbook=runbook,
            logs_dir=workdir / "logs" / drill_id,
        ),
        show_progress=show_progress(options),
    )

    identity = DrillIdentity(
        drill_id=drill_id,
        executed_at=format_zulu(started),
        environment=environment,
        actor=actor,
        plan_approval_id=plan.approval_id,
        target_minutes=target_minutes,
        runbook_ref=runbook.runbook_ref,
        incident=options.incident,
        faults=options.faults,
    )
    evidence = build_evidence(identity, outcome)
    check_safe(evidence, artifact="rehearsal evidence")
    evidence_bytes = render_json(evidence).encode()
    record = build_record(evidence, sha256_hex(evidence_bytes))
    check_safe(record, artifact="drill history record")

    with ExitStack() as held:
        # Waiting for the lock is interruptible; writing under it is not (signals wait), so the
        # evidence, the history and the readiness report are always one consistent set.
        try:
            held.enter_context(history_lock(history_path, lock_timeout=options.lock_timeout))
        except HistoryLocked as busy:
            # The rehearsal still happened: keep its evidence, say the history misses it.
            with signals.deferred():
                write_atomic(evidence_path, evidence_bytes, what="rehearsal evidence")
            raise EnvironmentFault(
                f"{busy.message}; the evidence was written to {evidence_path}, but this drill is not in the history"
            ) from None
        with signals.deferred():
            write_atomic(evidence_path, evidence_bytes, what="rehearsal evidence")
            written = append_drill_locked(history_path, record, environment=environment)
            drills = written["drills"]
            assert isinstance(drills, list)
            record = drills[-1]  # as sealed into the history's chain
            readiness = readiness_now()
            check_safe(readiness, artifact="production readiness report")
            write_json_atomic(readiness_path, readiness, what="production readiness report")
            files = {
                "plan": plan_path,
                "evidence": str(evidence_path),
                "history": str(history_path),
                "readiness": str(readiness_path),
            }
            # Last, once the drill's own record is complete: a failure here loses none of it.
            ci_outputs = write_outputs(
                outputs,
                evidence=evidence,
                evidence_path=evidence_path,
                evidence_bytes=evidence_bytes,
                readiness=readiness,
                files=files,
                failure=outcome.failure,
                plan_path=plan_path,
                plan_sha256=plan_sha256,
                schedule_path=schedule_path,
            )
    return RunResult(
        evidence,
        record,
        readiness,
        outcome,
        {**files, **ci_outputs.files},
        history_head=_history_head(record),
        output_errors=ci_outputs.errors,
    )


def _plan_digest(plan_path: str) -> str:
    """sha256 of the plan's bytes, for the attestation (read right after the plan was judged)."""
    try:
        return sha256_hex(read_file_bytes(plan_path))
    except (NotAFile, Unreadable) as exc:
        raise InputError(f"rollback plan {plan_path}: cannot be read ({exc})") from None


def _history_head(record: Mapping[str, object]) -> str | None:
    """`record_sha256` of this drill's record as the history holds it, when the history chains its records."""
    digest = record.get("record_sha256")
    return digest if isinstance(digest, str) and digest else None
