"""Debian chromium driven by Playwright for the browser tests: launching it, logging a demo
role in, full-page screenshots under test-artifacts/screenshots/, and the axe-core
accessibility scan (axe.min.js as shipped by the axe-playwright-python package).

Without /usr/bin/chromium (or $CHROMIUM) or the playwright package the browser tests are
skipped with the reason — unless CCHC_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from web_server import LOGINS, LiveServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 360, "height": 740}
#: axe-core impacts that fail a page.
BLOCKING = ("serious", "critical")


def browser_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt install chromium, or set CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def require_browser() -> None:
    reason = browser_reason()
    if reason:
        if os.environ.get("CCHC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CCHC_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


def launch(pw: Any) -> Any:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def open_as(browser: Any, server: LiveServer, role: str,
            viewport: dict[str, int] = DESKTOP) -> Any:
    """A new browser context logged in as the demo user of `role`; returns its page."""
    context = browser.new_context(viewport=viewport, locale="vi-VN", accept_downloads=True,
                                  timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    username, password = LOGINS[role]
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    return page


def shot(page: Any, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@cache
def axe_source() -> str:
    spec = importlib.util.find_spec("axe_playwright_python")  # the package ships axe-core
    assert spec is not None and spec.origin, "pip install axe-playwright-python (dev extra)"
    return (Path(spec.origin).parent / "axe.min.js").read_text("utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations of the page as it is now. The script is evaluated
    through the DevTools protocol (the app's CSP forbids inline scripts, rightly)."""
    page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})")
    return list(result["violations"])


def blocking(violations: list[dict[str, Any]]) -> list[str]:
    """The serious and critical ones, one line each (rule, impact, first target)."""
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            f"{json.dumps(v['nodes'][0]['target'], ensure_ascii=False)}"
            for v in violations if v.get("impact") in BLOCKING]


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
    width: int = page.evaluate(
        "() => document.scrollingElement.scrollWidth - window.innerWidth")
    return width


__all__ = [
    "ARTIFACTS",
    "BLOCKING",
    "CHROMIUM",
    "DESKTOP",
    "NARROW",
    "PHONE",
    "SHOTS",
    "axe_violations",
    "blocking",
    "browser_reason",
    "horizontal_overflow",
    "launch",
    "open_as",
    "require_browser",
    "shot",
]
