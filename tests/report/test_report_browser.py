"""The page from real drills, drawn by headless Chromium: the screenshot must not be blank.

Skipped, with the reason, when no Chromium is installed (`.ci/run` installs the Debian package
when it can). Chromium gets its own profile directory and no network: the page loads nothing,
and its Content-Security-Policy would refuse anything it tried to.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cavra_samples as samples
import pytest
from clirun import CliResult, assert_no_traceback, clean_env
from drillrun import Drills

from report.png import decode_png

WIDTH, HEIGHT = 1200, 1600
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PAGE_BACKGROUND = b"\xf6\xf8\xfa"  # --bg in the page's CSS
CARD = b"\xff\xff\xff"


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def screenshot(browser: str, page: Path, png: Path, profile: Path) -> None:
    args = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.as_uri(),
    ]
    # Its own session, so that a hung browser is stopped with every helper process it started.
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("chromium did not finish the screenshot in 90 s")
    assert png.exists(), output.decode(errors="replace")[-2000:]


def ready_schedule(directory: Path) -> Path:
    schedule = samples.schedule(samples.zulu(datetime.now(UTC) + timedelta(days=30)))
    return samples.write_json(directory / "schedule.json", schedule)


def test_report_of_real_drills_renders_in_chromium(drills: Drills, tmp_path: Path) -> None:
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium); the browser test needs one")
    # A failed drill, then a passing one: the latest drill passes, and the chart has both marks.
    failed = drills.run("--fault", "fallback-broken")
    assert failed.returncode == 1, failed.stderr
    passed = drills.run()
    assert passed.returncode == 0, passed.stderr
    page = tmp_path / "report.html"
    result = drills_report(drills, page, ready_schedule(tmp_path))
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    assert text.count('<g class="mark failed">') == 1 and text.count('<g class="mark passed">') == 1
    assert "intact: 2 sealed" in text  # cavra-drill seals every record it appends

    png = tmp_path / "report.png"
    screenshot(browser, page, png, tmp_path / "chromium-profile")
    image = decode_png(png.read_bytes())
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    colours = Counter(image.pixels())
    # Not blank: many colours (text is anti-aliased), and much of the page is not background.
    assert len(colours) >= 200, len(colours)
    background = colours[PAGE_BACKGROUND] + colours[CARD]
    assert colours.most_common(1)[0][0] in (PAGE_BACKGROUND, CARD)  # the CSS was applied
    assert 1 - background / (WIDTH * HEIGHT) > 0.03
    # Ink in every band of the page, not only at the top.
    bands = [image.rows[y : y + HEIGHT // 8] for y in range(0, HEIGHT, HEIGHT // 8)]
    for band in bands:
        assert any(row != row[: image.channels] * WIDTH for row in band)


def drills_report(drills: Drills, page: Path, schedule: Path) -> CliResult:
    """`cavra-drill report` on what the drills wrote, in a clean environment."""
    out = drills.out
    args = [
        "report",
        "--mode",
        "promoted",
        "--plan",
        str(out / "go-backend-rollback-plan.json"),
        "--rehearsal",
        str(out / "go-backend-rollback-rehearsal.json"),
        "--history",
        str(out / "go-backend-rollback-drills.json"),
        "--schedule",
        str(schedule),
        "--out",
        str(page),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "cavra_drill", *args],
        cwd=drills.cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result = CliResult(done.returncode, done.stdout, done.stderr)
    assert_no_traceback(result)
    return result
