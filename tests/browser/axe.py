"""axe-core (vendored by the axe-playwright-python wheel) run in a page: its serious finds."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from playwright.sync_api import Page

AXE_SCRIPT = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
BLOCKING = {"serious", "critical"}


def blocking_violations(page: Page) -> list[str]:
    """Every serious or critical axe violation on the page as it is now, one line each."""
    page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in results["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
        found.append(f"{violation['impact']} {violation['id']}: {violation['help']} "
                     f"at {targets} ({page.url})")
    return found
