"""Reading a history for an append (and for `history`): whatever is at the path, an answer comes
quickly, in one line, without reading forever or blocking."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cavra_drill.errors import InputError
from cavra_drill.store.history_store import read_history_for_append

HISTORY = '{"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": [%s]}'


def refused(path: Path) -> str:
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        read_history_for_append(path)
    assert time.monotonic() - started < 5
    return caught.value.message


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "history.json")
    assert "not a regular file" in refused(tmp_path / "history.json")


def test_a_link_to_an_endless_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    (tmp_path / "history.json").symlink_to("/dev/zero")
    assert "not a regular file" in refused(tmp_path / "history.json")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "history.json").mkdir()
    assert "it is a directory" in refused(tmp_path / "history.json")


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "history.json").symlink_to("history.json")
    assert "cannot be read" in refused(tmp_path / "history.json")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\ud83d", "\\ude00\\ud83d"])
def test_a_lone_surrogate_escape_is_refused(tmp_path: Path, escape: str) -> None:
    # Valid JSON syntax, but the history could never be written back as UTF-8.
    path = tmp_path / "history.json"
    path.write_text(HISTORY % f'{{"drill_id": "{escape}"}}')
    assert "surrogate" in refused(path)


@pytest.mark.parametrize("text", ["\\ud83d\\ude00", "\\\\ud800", "\\u00e9"])
def test_escapes_that_are_text_are_accepted(tmp_path: Path, text: str) -> None:
    # A complete pair (an emoji), an escaped backslash before "ud800", an ordinary escape.
    path = tmp_path / "history.json"
    path.write_text(HISTORY % f'{{"drill_id": "{text}"}}')
    document = read_history_for_append(path)
    assert document is not None
