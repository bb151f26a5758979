"""Every relative link in docs/ leads to a file that exists, and every #anchor to a heading.

Anchors are computed the way GitHub renders headings: lower case, punctuation dropped,
spaces turned into hyphens, `-1`, `-2`... appended to repeats.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
# Pages other people are writing now: linked from the index before they exist.
PAGES_IN_PROGRESS = frozenset({"docs/reliability.md"})
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    seen: Counter[str] = Counter()
    found = set()
    for match in HEADING.finditer(text):
        base = slug(match.group(1))
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


def test_slugs_follow_github() -> None:
    assert slug("Rollback plan (`cavra-drill readiness --report rollback`)") == (
        "rollback-plan-cavra-drill-readiness---report-rollback"
    )
    assert slug("Drill history: only the latest drill counts") == "drill-history-only-the-latest-drill-counts"
    assert slug("`go_rollback_requested`") == "go_rollback_requested"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    problems = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # http:, https:, mailto:
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        name = linked.relative_to(ROOT).as_posix() if linked.is_relative_to(ROOT) else str(linked)
        if not linked.exists():
            if name not in PAGES_IN_PROGRESS:
                problems.append(f"{target}: {name} does not exist")
            continue
        if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no heading '#{anchor}' in {name}")
    assert problems == [], f"{page.relative_to(ROOT)}:\n" + "\n".join(problems)
