"""Debian's Chromium driven by Playwright, for the tests that need a real browser.

Playwright cannot download its own browser here, so it drives /usr/bin/chromium (`apt-get install
chromium`; `.ci/run` does it). Without it a local run skips these tests with that reason; in CI
(the CI variable set) a missing browser is a failure, never a silent skip.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("WSTUTORIAL_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# sandbox refuses; --no-sandbox because CI runs as root.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium (sudo apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def chromium_page(viewport: dict[str, int] | None = None) -> Iterator[object]:
    """A fresh headless Chromium (empty profile) and one page in it."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="wstutorial-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport=viewport or {"width": 1280, "height": 900},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def screenshot(page: object, name: str) -> Path:
    """Save a screenshot under test-artifacts/ (git-ignored; CI can keep it) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
