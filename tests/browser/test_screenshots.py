"""Full-page screenshots at phone and desktop widths, for people to look at (test-artifacts/screenshots)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, FIVE_MEDICINES, PHONE, BrowserLog, build_list, origin

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_screenshots(live_server, page: Page, browser_log: BrowserLog, seeded, artifacts_dir, viewport):
    width = viewport["width"]
    page.set_viewport_size(viewport)
    written = []

    def shoot(name: str) -> None:
        path = artifacts_dir / f"{name}-{width}.png"
        path.unlink(missing_ok=True)
        page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        assert path.stat().st_size > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        written.append(path)

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shoot("home")

    build_list(page, live_server.url, FIVE_MEDICINES)
    expect(page.locator("#findings .finding").first).to_be_visible()
    shoot("check-5-medicines")

    page.goto(live_server.url + "/check/print/")
    expect(page.locator(".print-finding").first).to_be_visible()
    shoot("print")

    assert len(written) == 3
    browser_log.assert_clean(origin(live_server.url))
