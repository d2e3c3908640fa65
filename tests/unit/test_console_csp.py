"""The console's pages run under ``script-src 'self'; style-src 'self'`` (http/app.py): a
template with inline script, an event-handler attribute or a style attribute would be blocked
by the browser, so none may have one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifierd.http.app import CONSOLE_HEADERS

TEMPLATES = sorted(
    (Path(__file__).resolve().parents[2] / "notifierd/console/templates").glob("*.html")
)
INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "an event-handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "a style element": re.compile(r"<style\b", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_the_policy_allows_nothing_inline() -> None:
    policy = CONSOLE_HEADERS["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_a_template_has_nothing_inline(template: Path) -> None:
    text = template.read_text()
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{template.name} has {', '.join(found)}: move it to static/"


def test_the_check_finds_what_it_looks_for() -> None:
    for sample in (
        "<script>alert(1)</script>",
        '<button onclick="x()">',
        '<p style="color: red">',
        "<style>p{}</style>",
        '<a href="javascript:x()">',
    ):
        assert any(p.search(sample) for p in INLINE.values()), sample
    assert not any(
        p.search('<script src="/ui/static/live.js" defer></script>') for p in INLINE.values()
    )
