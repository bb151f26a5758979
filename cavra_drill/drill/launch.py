"""`python -m cavra_drill.drill.launch PROGRAM [ARGS...]`: run a runbook command so that it dies
with cavra-drill.

Runbook commands run in their own session (so a timeout can stop their whole process group),
which also takes them out of the drill's reach if cavra-drill itself is SIGKILLed. This tiny
launcher sets the parent-death signal and then execs the command in its place: if cavra-drill
dies, the kernel kills the command. A service the command starts on purpose (a fork) does not
inherit the setting, and stays up: it is the deployment, not the drill.
"""

from __future__ import annotations

import os
import sys

from cavra_drill.drill.processes import OWNER_ENV, set_parent_death_signal

EXIT_NOT_FOUND = 127
EXIT_OWNER_GONE = 125


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: python -m cavra_drill.drill.launch PROGRAM [ARGS...]\n")
        return 2
    set_parent_death_signal()
    owner = os.environ.get(OWNER_ENV, "")
    if owner.isdigit() and os.getppid() != int(owner):
        return EXIT_OWNER_GONE  # cavra-drill died before the signal was armed
    try:
        os.execvp(argv[0], argv)  # noqa: S606 - the runbook's argv, deliberately without a shell
    except OSError as exc:
        sys.stderr.write(f"cavra-drill: cannot run {argv[0]}: {exc.strerror}\n")
        return EXIT_NOT_FOUND
    return 0  # not reached: execvp replaced this process


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
