"""A corpus of hostile input files: what an operator, a bad merge or an attacker might hand
cavra-drill as a plan, evidence, history or schedule.

`build_corpus(directory)` writes every entry and returns their descriptions. Each entry says
what the commands must make of it:

- `validate` exits 1 (every entry is invalid);
- `readiness` with the file in every slot needs attention (exit 1);
- `run --plan` refuses it (exit 3);
- `run --history`, `history` and `history verify` refuse it (exit 3), unless it is
  *history-shaped* (right schema_version, a `drills` list, text that can be written back):
  `run` then appends to it, since entries CAVRA would not parse are the validator's business,
  not a reason to refuse a drill;
- `report` needs attention (exit 1) and writes only its own page.

And for every command: no traceback, and the input byte-for-byte as it was.

Contents are built at run time; nothing here is a real secret, host or person.
"""

from __future__ import annotations

import codecs
import copy
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cavra_drill.cli.run import SAMPLE_PLAN
from cavra_drill.contract.plan import PLAN_SCHEMA

REHEARSAL_SCHEMA = "cavra.go-backend-rollback-rehearsal.v1"
HISTORY_SCHEMA = "cavra.go-backend-rollback-drill-history.v1"
SCHEDULE_SCHEMA = "cavra.go-backend-rollback-drill-schedule.v1"
DEEP = 100_000
BIG_BYTES = 50 * 1024 * 1024


def plan() -> dict[str, object]:
    """CAVRA's documented sample plan, a fresh copy each time (the corpus breaks it field by field)."""
    return copy.deepcopy(SAMPLE_PLAN)


def rehearsal() -> dict[str, object]:
    return {
        "schema_version": REHEARSAL_SCHEMA,
        "status": "pass",
        "plan_approval_id": "apr_go_backend_rollback",
        "simulated": True,
        "fallback_verified": True,
        "recovery_minutes": 6,
        "max_recovery_minutes": 15,
        "runbook_ref": "docs/go-backend-rollback-rehearsal.md",
        "evidence_refs": ["go-rollback-rehearsal://ci/fallback-restored"],
    }


def drill(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "drill_id": "drill_go_backend_python_fallback",
        # Stale on purpose: a history-shaped entry is still invalid as a whole.
        "executed_at": "2020-05-21T15:40:00Z",
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
    entry.update(changes)
    return entry


def history(*drills: object) -> dict[str, object]:
    return {
        "schema_version": HISTORY_SCHEMA,
        "environment": "rehearsal-sandbox",
        "drills": list(drills) if drills else [drill()],
    }


def schedule() -> dict[str, object]:
    return {
        "schema_version": SCHEDULE_SCHEMA,
        "schedule_id": "weekly-rollback-drill",
        "environment": "rehearsal-sandbox",
        "status": "active",
        "interval_days": 7,
        "next_due_at": "2020-01-01T00:00:00Z",  # overdue: invalid on its own
        "owners": ["release-team"],
        "notification_providers": ["pagerduty"],
        "runbook_ref": "runbooks/go-backend-python-fallback.md",
    }


def dumps(value: object) -> bytes:
    return json.dumps(value, indent=2).encode()


def with_changes(base: dict[str, object], **changes: object) -> dict[str, object]:
    return {**base, **changes}


def raw_field(document: dict[str, object], key: str, raw: str) -> bytes:
    """`document` as JSON with `key`'s value replaced by `raw` JSON text (NaN, 1e400, ...)."""
    marker = "__RAW_VALUE__"
    text = json.dumps({**document, key: marker}, indent=2)
    return text.replace(json.dumps(marker), raw).encode()


def raw_drill_field(key: str, raw: str) -> bytes:
    marker = "__RAW_VALUE__"
    text = json.dumps(history(drill(**{key: marker})), indent=2)
    return text.replace(json.dumps(marker), raw).encode()


@dataclass(frozen=True)
class Hostile:
    name: str
    what: str
    history_shaped: bool = False
    big: bool = False
    path_only: bool = False  # not a file with content we can hash (directory, link, FIFO...)

    def path(self, directory: Path) -> Path:
        return directory / self.name


Builder = Callable[[Path], None]


def _bytes(data: bytes) -> Builder:
    def build(path: Path) -> None:
        path.write_bytes(data)

    return build


def _deep_arrays(path: Path) -> None:
    path.write_bytes(b"[" * DEEP + b"]" * DEEP)


def _deep_objects(path: Path) -> None:
    path.write_bytes(b'{"a":' * DEEP + b"1" + b"}" * DEEP)


def _deep_in_plan(path: Path) -> None:
    text = json.dumps(with_changes(plan(), evidence_refs="__DEEP__"))
    path.write_bytes(text.replace('"__DEEP__"', "[" * DEEP + "]" * DEEP).encode())


def _big(path: Path) -> None:
    # A plan that is invalid (status draft) with 50 MB of padding: size, not structure.
    head = json.dumps(with_changes(plan(), status="draft"))[:-1]
    filler = BIG_BYTES - len(head) - 20
    with path.open("wb") as handle:
        handle.write(head.encode() + b', "padding": "')
        chunk = b"A" * (1024 * 1024)
        for _ in range(filler // len(chunk)):
            handle.write(chunk)
        handle.write(b"A" * (filler % len(chunk)) + b'"}')


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "inside.json").write_bytes(dumps(plan()))


def _symlink_loop(path: Path) -> None:
    other = path.with_name(path.name + ".other")
    os.symlink(other.name, path)
    os.symlink(path.name, other)


def _self_symlink(path: Path) -> None:
    os.symlink(path.name, path)


def _dangling_symlink(path: Path) -> None:
    os.symlink("no-such-file.json", path)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    os.symlink("/dev/zero", path)


def _socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))


def _through_a_file(path: Path) -> None:
    # The entry's path is `<file>/child.json`: a path through a regular file (ENOTDIR).
    path.parent.write_bytes(dumps(plan()))


def _latin1(path: Path) -> None:
    path.write_bytes(dumps(plan()).replace(b"Restart API", "Redémarrer API".encode("latin-1")))


def _utf16(path: Path) -> None:
    path.write_bytes(codecs.BOM_UTF16_LE + json.dumps(plan()).encode("utf-16-le"))


def _huge_int(path: Path) -> None:
    path.write_bytes(raw_field(plan(), "max_recovery_minutes", "9" * 5000))


def _many_digits_float(path: Path) -> None:
    # Valid JSON syntax, but infinite as a float.
    path.write_bytes(raw_field(rehearsal(), "recovery_minutes", "9" * 5000 + ".5"))


def _long_key(path: Path) -> None:
    document = with_changes(plan(), status="draft")
    document["k" * (1024 * 1024)] = "v"
    path.write_bytes(dumps(document))


def _entries() -> list[tuple[Hostile, Builder]]:
    esc = "\u001b"
    return [
        # Encoding and syntax.
        (Hostile("empty.json", "empty file"), _bytes(b"")),
        (Hostile("whitespace.json", "white space only"), _bytes(b" \n\t \r\n")),
        (Hostile("latin1.json", "a plan with Latin-1 (non-UTF-8) text"), _latin1),
        (Hostile("binary.json", "bytes that are not UTF-8 at all"), _bytes(b"\xff\xfe\xfd\x00{}\x80")),
        (Hostile("utf16.json", "a plan in UTF-16 with its byte-order mark"), _utf16),
        (
            Hostile("bom-plan.json", "UTF-8 byte-order mark before a valid plan"),
            _bytes(codecs.BOM_UTF8 + dumps(plan())),
        ),
        (
            Hostile("bom-history.json", "UTF-8 byte-order mark before a history"),
            _bytes(codecs.BOM_UTF8 + dumps(history())),
        ),
        (Hostile("truncated.json", "a plan cut in half"), _bytes(dumps(plan())[:150])),
        (Hostile("trailing-garbage.json", "a plan followed by garbage"), _bytes(dumps(plan()) + b" }garbage")),
        (Hostile("two-objects.json", "two objects back to back"), _bytes(b"{}{}")),
        (
            Hostile("nul-byte.json", "a raw NUL byte inside a string"),
            _bytes(dumps(plan()).replace(b"ready", b"rea\x00dy")),
        ),
        (Hostile("control-char.json", "a raw control character inside a string"), _bytes(b'{"status": "re\x01ady"}')),
        # Not an object.
        (Hostile("top-array.json", "a JSON array"), _bytes(b"[]")),
        (Hostile("top-null.json", "JSON null"), _bytes(b"null")),
        (Hostile("top-string.json", "a JSON string"), _bytes(json.dumps(PLAN_SCHEMA).encode())),
        (Hostile("top-number.json", "a JSON number"), _bytes(b"42")),
        (Hostile("top-true.json", "JSON true"), _bytes(b"true")),
        # Depth and size.
        (Hostile("deep-arrays.json", f"arrays nested {DEEP:,} deep"), _deep_arrays),
        (Hostile("deep-objects.json", f"objects nested {DEEP:,} deep"), _deep_objects),
        (Hostile("deep-in-plan.json", f"a plan whose evidence_refs nest {DEEP:,} deep"), _deep_in_plan),
        (Hostile("long-key.json", "an invalid plan with a 1 MB key"), _long_key),
        (Hostile("big-50mb.json", "a 50 MB invalid plan", big=True), _big),
        # Numbers that are not numbers.
        (
            Hostile("nan-plan.json", "NaN max_recovery_minutes"),
            _bytes(raw_field(plan(), "max_recovery_minutes", "NaN")),
        ),
        (
            Hostile("infinity-rehearsal.json", "Infinity recovery_minutes"),
            _bytes(raw_field(rehearsal(), "recovery_minutes", "Infinity")),
        ),
        (
            Hostile("neg-infinity-history.json", "-Infinity recovery_minutes in a drill"),
            _bytes(raw_drill_field("recovery_minutes", "-Infinity")),
        ),
        (Hostile("nan-schedule.json", "NaN interval_days"), _bytes(raw_field(schedule(), "interval_days", "NaN"))),
        (
            Hostile("overflow-rehearsal.json", "1e400 recovery_minutes (infinite as a float)"),
            _bytes(raw_field(rehearsal(), "recovery_minutes", "1e400")),
        ),
        (
            Hostile("overflow-history.json", "1e400 recovery_minutes in a drill"),
            _bytes(raw_drill_field("recovery_minutes", "1e400")),
        ),
        (Hostile("huge-int-plan.json", "a 5,000-digit max_recovery_minutes"), _huge_int),
        (
            Hostile("long-float-rehearsal.json", "a 5,000-digit decimal recovery_minutes (infinite as a float)"),
            _many_digits_float,
        ),
        (
            Hostile("bool-numbers-plan.json", "true for max_recovery_minutes"),
            _bytes(dumps(with_changes(plan(), max_recovery_minutes=True))),
        ),
        (
            Hostile("string-numbers-rehearsal.json", 'recovery_minutes "6" (a string)'),
            _bytes(dumps(with_changes(rehearsal(), recovery_minutes="6", max_recovery_minutes="15"))),
        ),
        (
            Hostile("string-numbers-schedule.json", 'interval_days "7" (a string)'),
            _bytes(dumps(with_changes(schedule(), interval_days="7"))),
        ),
        (
            Hostile("bool-numbers-history.json", "false recovery_minutes in a drill", history_shaped=True),
            _bytes(dumps(history(drill(recovery_minutes=False, max_recovery_minutes=True)))),
        ),
        # Wrong shapes.
        (
            Hostile("arrays-for-strings-plan.json", "arrays where the plan has strings"),
            _bytes(dumps(with_changes(plan(), status=["ready"], target_mode=["disabled"], approval_id=["apr"]))),
        ),
        (
            Hostile("objects-for-lists-plan.json", "objects where the plan has lists"),
            _bytes(dumps(with_changes(plan(), controls={"a": 1}, rollback_steps={"b": 2}, evidence_refs={}))),
        ),
        (Hostile("null-plan.json", "every plan field null"), _bytes(dumps(dict.fromkeys(plan())))),
        (Hostile("null-rehearsal.json", "every evidence field null"), _bytes(dumps(dict.fromkeys(rehearsal())))),
        (Hostile("null-schedule.json", "every schedule field null"), _bytes(dumps(dict.fromkeys(schedule())))),
        (
            Hostile("null-history.json", "schema and drills null"),
            _bytes(dumps({"schema_version": None, "environment": None, "drills": None})),
        ),
        (
            Hostile("null-drill-fields.json", "a drill whose every field is null", history_shaped=True),
            _bytes(dumps(history(dict.fromkeys(drill())))),
        ),
        (
            Hostile("drills-object.json", "drills as an object, not a list"),
            _bytes(dumps({**history(), "drills": {"0": drill()}})),
        ),
        (
            Hostile("drills-non-objects.json", "drills that are not objects", history_shaped=True),
            _bytes(dumps(history(1, "x", [], True, None))),
        ),
        (
            Hostile("drills-empty.json", "an empty drills list", history_shaped=True),
            _bytes(dumps({**history(), "drills": []})),
        ),
        (
            Hostile("bad-timestamps-history.json", "timestamps that are not moments", history_shaped=True),
            _bytes(
                dumps(
                    history(
                        drill(executed_at="9999-99-99T99:99:99Z"),
                        drill(executed_at="0000-00-00"),
                        drill(executed_at="2026-02-30T00:00:00Z"),
                        drill(executed_at="9999-12-31T23:59:59-23:59"),
                        drill(executed_at=1_700_000_000),
                    )
                )
            ),
        ),
        (
            Hostile("calendar-edge-schedule.json", "a due date past the calendar, interval 1e308"),
            _bytes(dumps(with_changes(schedule(), next_due_at="9999-12-31T23:59:59-14:00", interval_days=1e308))),
        ),
        (
            Hostile("unknown-schema.json", "an unknown schema_version"),
            _bytes(dumps(with_changes(plan(), schema_version="cavra.go-backend-rollback-plan.v9"))),
        ),
        (
            Hostile("schema-only-history.json", "a history schema and nothing else"),
            _bytes(dumps({"schema_version": HISTORY_SCHEMA})),
        ),
        (
            Hostile("duplicate-keys-plan.json", "a plan whose last duplicate key makes it invalid"),
            _bytes(dumps(plan())[:-2] + b',\n  "status": "draft"\n}'),
        ),
        # Text that cannot be written back or would act on a terminal.
        (
            Hostile("lone-surrogate-plan.json", "a plan step holding a lone UTF-16 surrogate escape"),
            _bytes(dumps(with_changes(plan(), rollback_steps=["step \\ud800"])).replace(b"\\\\ud800", b"\\ud800")),
        ),
        (
            Hostile("lone-surrogate-history.json", "a drill id holding a lone surrogate escape"),
            _bytes(dumps(history(drill(drill_id="drill_\\udc00"))).replace(b"\\\\udc00", b"\\udc00")),
        ),
        (
            Hostile("lone-surrogate-schedule.json", "an owner holding a lone surrogate escape"),
            _bytes(dumps(with_changes(schedule(), owners=["\\ud83d"])).replace(b"\\\\ud83d", b"\\ud83d")),
        ),
        (
            Hostile("terminal-escapes-plan.json", "ANSI escape sequences in plan values"),
            _bytes(dumps(with_changes(plan(), status=f"{esc}[2J{esc}[31mready", approval_id=f"{esc}]0;owned{esc}\\"))),
        ),
        (
            Hostile("bidi-override-history.json", "right-to-left override in a drill", history_shaped=True),
            _bytes(dumps(history(drill(status="\u202essap", actor="\u202erelease")))),
        ),
        # Not a regular file.
        (Hostile("directory.json", "a directory", path_only=True), _directory),
        (Hostile("symlink-loop.json", "a symbolic link loop", path_only=True), _symlink_loop),
        (Hostile("self-link.json", "a symbolic link to itself", path_only=True), _self_symlink),
        (Hostile("dangling-link.json", "a symbolic link to nothing", path_only=True), _dangling_symlink),
        (Hostile("fifo.json", "a named pipe (reading it would block)", path_only=True), _fifo),
        (Hostile("dev-zero.json", "a link to /dev/zero (reading it never ends)", path_only=True), _dev_zero),
        (Hostile("socket.json", "a Unix socket", path_only=True), _socket),
        (Hostile("a-file.json/child.json", "a path through a regular file", path_only=True), _through_a_file),
    ]


def build_corpus(directory: Path, *, big: bool = True) -> list[Hostile]:
    """Write the corpus into `directory` (which must exist and be empty)."""
    built = []
    for entry, builder in _entries():
        if entry.big and not big:
            continue
        builder(entry.path(directory))
        built.append(entry)
    return built


def fingerprint(directory: Path) -> dict[str, str]:
    """What is at each name in `directory`: file contents, link targets, kinds; to compare before/after."""
    import hashlib
    import stat

    found: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        name = str(path.relative_to(directory))
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[name] = "link -> " + os.readlink(path)
        elif stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            found[name] = f"file {info.st_mode & 0o7777:o} {digest.hexdigest()}"
        else:
            found[name] = f"kind {stat.S_IFMT(info.st_mode):o} mode {info.st_mode & 0o7777:o}"
    return found
