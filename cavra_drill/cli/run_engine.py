"""Running the drill engine from the CLI: one anyio loop, and the signals around it.

See `signals.py` for the whole story. Here: the terminating signals are blocked before the
loop starts and unblocked once anyio's receiver is installed; the receiver stays open for the
whole drill (the first signal cancels it, later ones are acknowledged, cleanup is never cut
short); they are blocked again before the receiver closes (asyncio then resets SIGTERM to
"terminate") and handed back to the raising handlers, so a signal in that gap waits instead of
killing the process with the drill half-recorded.
"""

from __future__ import annotations

import shutil
import signal
import sys

import anyio

from cavra_drill.cli import signals
from cavra_drill.drill import processes
from cavra_drill.drill.engine import DrillPlan, run_drill
from cavra_drill.drill.outcome import DrillOutcome, PhaseRecord
from cavra_drill.errors import DrillError, EnvironmentFault, Interrupted


def _print_phase(phase: PhaseRecord) -> None:
    mark = "ok  " if phase.ok else "FAIL"
    sys.stderr.write(f"  {mark} {phase.name:<14} {phase.duration_seconds:8.3f} s  {phase.detail}\n")
    sys.stderr.flush()


def run_engine(plan: DrillPlan, *, show_progress: bool) -> DrillOutcome:
    """Run one drill to its outcome; raise Interrupted (after cleanup) if a signal stopped it."""
    received: list[str] = []

    async def main() -> DrillOutcome | None:
        result: DrillOutcome | None = None
        error: DrillError | None = None
        with anyio.open_signal_receiver(*signals.TERMINATING) as incoming:
            signals.unblock()  # the receiver is in place: let signals reach it
            try:
                async with anyio.create_task_group() as group:

                    async def watch() -> None:
                        async for signum in incoming:
                            name = signal.Signals(signum).name
                            if not received:
                                received.append(name)
                                group.cancel_scope.cancel()
                            else:
                                sys.stderr.write(f"cavra-drill: {name} received; cleaning up, please wait\n")

                    group.start_soon(watch)
                    try:
                        result = await run_drill(plan, on_phase=_print_phase if show_progress else None)
                    except DrillError as exc:
                        # Raised past the task group it would arrive wrapped in an ExceptionGroup.
                        error = exc
                    except OSError as exc:
                        error = EnvironmentFault(f"the drill could not go on: {exc.strerror or exc}")
                    # Hold signals before the group (and then the receiver) closes.
                    signals.block()
                    group.cancel_scope.cancel()
            finally:
                signals.block()
        if error is not None:
            raise error
        return result

    mask = signals.block()
    try:
        outcome = anyio.run(main)
    finally:
        signals.install_raising_handlers()
        signals.restore(mask)  # a signal that waited is taken now, by the raising handlers
    if received or outcome is None:
        # The engine's cleanup ran (shielded) before the cancellation reached here; this sweep
        # only covers what a cancellation before the engine's first await could have missed.
        processes.sweep_drill(plan.drill_id)
        if not plan.keep_sandbox:
            shutil.rmtree(plan.sandbox_root, ignore_errors=True)
        raise Interrupted(f"interrupted by {received[0] if received else 'a signal'}; cleanup done, nothing written")
    return outcome
