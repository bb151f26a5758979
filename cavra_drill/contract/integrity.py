"""The drill history's integrity: a hash chain over its records, and their binding to evidence.

cavra-drill adds two fields to every record it appends (CAVRA ignores unknown fields, §4/§5)::

    previous_record_sha256   the link digest of the entry just before it in `drills`,
                             or null when it is the first entry
    record_sha256            sha256 of the canonical JSON of the record without this field
                             (so it covers previous_record_sha256 and every other field)

The *link digest* of an entry is its `record_sha256` when it carries one, and otherwise the
sha256 of the canonical JSON of the whole entry, whatever it is. So a history begun by hand or
by another tool (entries without digests, even non-objects) is sealed from the point where
cavra-drill starts appending: its first record links to the canonical digest of the last
legacy entry, and editing, removing or reordering those legacy entries breaks that link too.

*Canonical JSON* is UTF-8 of `json.dumps(value, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`: numbers as Python writes them (the shortest repr that
reads back to the same float), strings unescaped except where JSON requires it.

What the chain proves, and what it does not: an entry edited, deleted, moved or inserted after
it was written breaks a digest or a link, and `verify_chain` names the first such entry. It is
tamper-*evident*, not tamper-proof: anyone who can write the file can recompute every digest
after an edit, and dropping the newest records leaves a shorter chain that still verifies.
Compare the head digest with one recorded elsewhere (a CI log, a ticket) to catch both.

Pure: no files, no clock. The store seals records under its lock; the CLI verifies.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PREVIOUS_FIELD = "previous_record_sha256"
DIGEST_FIELD = "record_sha256"
CHAIN_FIELDS = (PREVIOUS_FIELD, DIGEST_FIELD)

# Problem kinds, as `history verify --json` reports them.
EDITED = "edited"
BROKEN_LINK = "broken_link"
DELETED = "deleted"
REORDERED = "reordered"
UNCHAINED = "unchained"
EVIDENCE_MISMATCH = "evidence_mismatch"

_SHA256 = re.compile(r"[0-9a-f]{64}")


# One encoder for every digest (the same output as `json.dumps` with these options, which would
# build a new encoder for each of the thousands of records a verification digests).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: object) -> bytes:
    """The bytes digests are taken over: sorted keys, no white space, UTF-8."""
    return _CANONICAL.encode(value).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def record_digest(record: Mapping[str, object]) -> str:
    """sha256 of the canonical JSON of `record` without its own `record_sha256`."""
    return sha256_hex(canonical_json({key: value for key, value in record.items() if key != DIGEST_FIELD}))


def link_digest(entry: object) -> str:
    """What the next record links to: the entry's `record_sha256`, else the digest of the entry itself."""
    if isinstance(entry, dict):
        stored = entry.get(DIGEST_FIELD)
        if is_sha256(stored):
            assert isinstance(stored, str)
            return stored
    return sha256_hex(canonical_json(entry))


def seal_record(record: Mapping[str, object], drills: Sequence[object]) -> dict[str, object]:
    """`record` with its chain fields, ready to be appended after `drills`.

    The record is first put through a JSON round trip (tuples become lists, and so on) so that
    the digest is taken over exactly what a reader will parse back from the file. Chain fields
    the caller passed in are replaced. Raises ValueError for NaN/Infinity, as every writer does.
    """
    body = {key: value for key, value in record.items() if key not in CHAIN_FIELDS}
    body[PREVIOUS_FIELD] = link_digest(drills[-1]) if drills else None
    sealed: dict[str, object] = json.loads(json.dumps(body, ensure_ascii=False, allow_nan=False))
    sealed[DIGEST_FIELD] = record_digest(sealed)
    return sealed


@dataclass(frozen=True)
class Problem:
    """One entry that does not hold: where (`index` in `drills`), which drill, what broke."""

    index: int
    drill_id: str | None
    kind: str
    message: str

    def describe(self) -> str:
        name = f" ({self.drill_id})" if self.drill_id else ""
        return f"drills[{self.index}]{name}: {self.kind}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {"index": self.index, "drill_id": self.drill_id, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class ChainReport:
    """The chain as found: how many entries are sealed, how many came before sealing began."""

    entries: int
    chained: int
    legacy: int
    head_sha256: str | None
    problems: tuple[Problem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def drill_id_of(entry: object) -> str | None:
    if isinstance(entry, dict):
        value = entry.get("drill_id")
        if isinstance(value, str) and value:
            return value
    return None


def _entries(count: int) -> str:
    return "1 entry now comes" if count == 1 else f"{count} entries now come"


def _entry_name(index: int, drills: Sequence[object]) -> str:
    drill_id = drill_id_of(drills[index])
    return f"drills[{index}]" + (f" ({drill_id})" if drill_id else "")


def verify_chain(drills: Sequence[object]) -> ChainReport:
    """Check every sealed record's digest and its link to the entry before it.

    Entries without `record_sha256` before the first sealed one are *legacy* (written before
    cavra-drill sealed this history) and are covered only through the first record's link. An
    entry without one after it is a problem (`unchained`): it was added by hand or by a tool
    that does not seal, and it could be a forged latest drill, which is what CAVRA judges.
    """
    links = [link_digest(entry) for entry in drills]
    first_index: dict[str, int] = {}
    for index, digest in enumerate(links):
        first_index.setdefault(digest, index)
    problems: list[Problem] = []
    chained = legacy = 0

    def problem(index: int, kind: str, message: str) -> None:
        problems.append(Problem(index, drill_id_of(drills[index]), kind, message))

    for index, entry in enumerate(drills):
        if not (isinstance(entry, dict) and DIGEST_FIELD in entry):
            if chained:
                problem(index, UNCHAINED, _UNCHAINED)
            else:
                legacy += 1
            continue
        chained += 1
        stored = entry[DIGEST_FIELD]
        if not is_sha256(stored):
            problem(index, EDITED, "its record_sha256 is not a sha256 digest: it was edited")
        elif record_digest(entry) != stored:
            problem(index, EDITED, "its contents do not match its record_sha256: it was edited after it was written")
        if PREVIOUS_FIELD not in entry:
            problem(index, EDITED, "its previous_record_sha256 is missing: it was edited")
            continue
        previous = entry[PREVIOUS_FIELD]
        expected = links[index - 1] if index > 0 else None
        if previous != expected:
            kind, message = _link_problem(index, previous, drills, first_index)
            problem(index, kind, message)
    return ChainReport(
        entries=len(drills),
        chained=chained,
        legacy=legacy,
        head_sha256=links[-1] if links else None,
        problems=tuple(problems),
    )


_UNCHAINED = (
    "it carries no record_sha256 although earlier records are sealed: "
    "it was added by hand or by a tool that does not seal records"
)


def _link_problem(
    index: int, previous: object, drills: Sequence[object], first_index: Mapping[str, int]
) -> tuple[str, str]:
    """What a wrong `previous_record_sha256` at `index` says happened."""
    if previous is not None and not is_sha256(previous):
        return EDITED, "its previous_record_sha256 is not a sha256 digest: it was edited"
    if previous is None:
        return BROKEN_LINK, f"it was written as the first entry, but {_entries(index)} before it: entries were inserted"
    assert isinstance(previous, str)
    target = first_index.get(previous)
    if target is None:
        lost = (
            "the entries before it were deleted"
            if index == 0
            else "the record it followed was deleted, or replaced by an edited and re-sealed copy"
        )
        return DELETED, f"it links to a record that is no longer in the history: {lost}"
    if target >= index:
        return REORDERED, f"it links to {_entry_name(target, drills)}, which now comes after it: records were reordered"
    return REORDERED, (
        f"it links to {_entry_name(target, drills)}, not to the entry just before it: "
        "entries were inserted or moved between them"
    )


# Outcomes of checking an evidence file against the history.
EVIDENCE_ABSENT = "absent"
EVIDENCE_MATCH = "match"
EVIDENCE_MISMATCHED = "mismatch"
EVIDENCE_NOT_IN_HISTORY = "not_in_history"
EVIDENCE_NO_DIGEST = "no_digest"
EVIDENCE_UNIDENTIFIED = "unidentified"


@dataclass(frozen=True)
class EvidenceCheck:
    """One evidence file checked against the record of its drill (matched by `drill_id`)."""

    status: str
    sha256: str | None
    drill_id: str | None
    index: int | None
    message: str
    path: str = ""

    @property
    def checked(self) -> bool:
        return self.status in (EVIDENCE_MATCH, EVIDENCE_MISMATCHED)

    @property
    def problem(self) -> Problem | None:
        if self.status != EVIDENCE_MISMATCHED:
            return None
        assert self.index is not None
        return Problem(self.index, self.drill_id, EVIDENCE_MISMATCH, self.message)

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path or None,
            "status": self.status,
            "sha256": self.sha256,
            "drill_id": self.drill_id,
            "index": self.index,
            "message": self.message,
        }


def evidence_not_found(path: str, reason: str) -> EvidenceCheck:
    """No evidence file could be read at `path`: nothing checked."""
    return EvidenceCheck(EVIDENCE_ABSENT, None, None, None, f"not checked: {reason}", path)


def check_evidence(drills: Sequence[object], raw: bytes, *, path: str = "") -> EvidenceCheck:
    """Is `raw` (an evidence file's bytes) the file the history recorded for its drill?

    The drill is the one the evidence names (`drill_id`; the last entry with that id). A file
    whose digest some record holds matches even when it names no drill. Only one evidence
    file is normally kept (the latest drill's), so every other record's evidence goes unchecked.
    """
    digest = sha256_hex(raw)
    drill_id = _evidence_drill_id(raw)
    candidates = [
        index for index, entry in enumerate(drills) if drill_id is not None and drill_id_of(entry) == drill_id
    ]
    if not candidates:
        for index, entry in enumerate(drills):
            if isinstance(entry, dict) and entry.get("evidence_sha256") == digest:
                name = drill_id_of(entry)
                return EvidenceCheck(EVIDENCE_MATCH, digest, name, index, "matches the record's evidence_sha256", path)
        if drill_id is None:
            return EvidenceCheck(
                EVIDENCE_UNIDENTIFIED, digest, None, None, "not checked: the file names no drill_id", path
            )
        return EvidenceCheck(
            EVIDENCE_NOT_IN_HISTORY, digest, drill_id, None, "not checked: its drill is not in this history", path
        )
    index = candidates[-1]
    entry = drills[index]
    assert isinstance(entry, dict)
    recorded = entry.get("evidence_sha256")
    if recorded == digest:
        return EvidenceCheck(EVIDENCE_MATCH, digest, drill_id, index, "matches the record's evidence_sha256", path)
    if recorded is None:
        return EvidenceCheck(
            EVIDENCE_NO_DIGEST, digest, drill_id, index, "not checked: the record holds no evidence_sha256", path
        )
    return EvidenceCheck(
        EVIDENCE_MISMATCHED,
        digest,
        drill_id,
        index,
        "the evidence file does not match the record's evidence_sha256: the file (or the record) was edited",
        path,
    )


def _evidence_drill_id(raw: bytes) -> str | None:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return drill_id_of(document)


TAMPERED = "tampered"
INTACT = "intact"
UNSEALED = "unsealed"
MAX_PROBLEMS_LISTED = 100


@dataclass(frozen=True)
class Verification:
    """`history verify`'s answer: the chain, and the evidence file checked against its record."""

    history: str
    chain: ChainReport
    evidence: EvidenceCheck
    evidence_digests: int  # entries that hold an evidence_sha256

    @property
    def problems(self) -> tuple[Problem, ...]:
        extra = self.evidence.problem
        found = [*self.chain.problems, *([extra] if extra is not None else [])]
        return tuple(sorted(found, key=lambda problem: problem.index))

    @property
    def status(self) -> str:
        if self.problems:
            return TAMPERED
        return UNSEALED if self.chain.entries and not self.chain.chained else INTACT

    @property
    def evidence_not_checked(self) -> int:
        """Records whose evidence file was not at hand (only the latest one is normally kept)."""
        return max(0, self.evidence_digests - (1 if self.evidence.checked else 0))

    def as_json(self) -> dict[str, object]:
        problems = self.problems
        return {
            "history": self.history,
            "status": self.status,
            "entries": self.chain.entries,
            "sealed": self.chain.chained,
            "legacy": self.chain.legacy,
            "head_sha256": self.chain.head_sha256,
            "first_problem": problems[0].as_json() if problems else None,
            "problem_count": len(problems),
            "problems": [problem.as_json() for problem in problems[:MAX_PROBLEMS_LISTED]],
            "evidence": self.evidence.as_json(),
            "evidence_not_checked": self.evidence_not_checked,
        }
