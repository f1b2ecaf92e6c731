"""What the browser tests share: Debian's Chromium and how it is started, the viewports, screenshots
for people to look at, and axe-core's accessibility check. The fixtures that open pages are in
`conftest.py` (`browser`, `line`, `open_page`)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# The phone the customer portal is checked on (390 px wide, as the issue asks).
PORTAL_PHONE = {"width": 390, "height": 844}


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not CHROMIUM.exists():
        return f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def screenshot(page: Any, name: str) -> None:
    """Save the whole page as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"moderate", "serious", "critical"}


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations of impact moderate or above on the page as it stands, one line each."""
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the accessibility checks, but {AXE} is missing (npm ci)")
        pytest.skip(f"axe-core is not installed at {AXE} (npm ci)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                          ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
                          " nodes: v.nodes.map(n => n.target.join(' '))}))")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'][:3])}"
            for v in found if v["impact"] in SERIOUS]
