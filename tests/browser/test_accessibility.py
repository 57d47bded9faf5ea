"""axe-core, run in real Chromium, finds no accessibility violations on the pages patients use."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, FIVE_MEDICINES, PHONE, BrowserLog, build_list, origin

pytestmark = pytest.mark.django_db(transaction=True)


def assert_no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Check your medicines"),
        ("/medications/naltrexone/", "Naltrexone"),
        ("/medications/?q=zoloft", "Find a medicine"),
    ],
    ids=["home", "medication", "search-results"],
)
def test_page_has_no_axe_violations(live_server, page: Page, browser_log: BrowserLog, seeded, path, heading):
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    if "q=" in path:
        expect(page.locator("#search-results li").first).to_contain_text("Zoloft")
    assert_no_violations(page)
    browser_log.assert_clean(origin(live_server.url))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_check_page_with_five_medicines_has_no_axe_violations(
    live_server, page: Page, browser_log: BrowserLog, seeded, viewport
):
    page.set_viewport_size(viewport)
    build_list(page, live_server.url, FIVE_MEDICINES)
    expect(page.locator("#findings .finding.sev-contraindicated").first).to_be_visible()
    expect(page.locator("#findings .finding.sev-major").first).to_be_visible()
    assert_no_violations(page)
    browser_log.assert_clean(origin(live_server.url))


@pytest.mark.parametrize(
    ("path", "box_name", "listbox_name", "first_id"),
    [
        ("/check/", "Add a medicine", "Medicines to add", "add-option-1"),
        ("/medications/", "Medicine name", "Matching medicines", "result-1"),
    ],
    ids=["check", "search"],
)
def test_open_combobox_has_no_axe_violations(
    live_server, page: Page, browser_log: BrowserLog, seeded, path, box_name, listbox_name, first_id
):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + path)
    box = page.get_by_role("combobox", name=box_name)
    box.press_sequentially("zoloft")
    first = page.get_by_role("listbox", name=listbox_name).get_by_role("option").first
    expect(first).to_contain_text("Zoloft (sertraline)")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", first_id)
    expect(first).to_have_attribute("aria-selected", "true")
    assert_no_violations(page)
    browser_log.assert_clean(origin(live_server.url))


def test_search_combobox_enter_opens_the_highlighted_medicine(live_server, page: Page, browser_log: BrowserLog, seeded):
    page.goto(live_server.url + "/medications/")
    box = page.get_by_role("combobox", name="Medicine name")
    box.press_sequentially("zoloft")
    expect(page.get_by_role("listbox", name="Matching medicines").get_by_role("option").first).to_be_visible()
    box.press("ArrowDown")
    with page.expect_navigation():
        box.press("Enter")
    assert page.url == live_server.url + "/medications/sertraline/"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sertraline")
    browser_log.assert_clean(origin(live_server.url))


def test_print_view_has_no_axe_violations(live_server, page: Page, browser_log: BrowserLog, seeded):
    build_list(page, live_server.url, FIVE_MEDICINES)
    page.goto(live_server.url + "/check/print/")
    expect(page.locator(".print-finding").first).to_be_visible()
    assert_no_violations(page)
    browser_log.assert_clean(origin(live_server.url))


@pytest.mark.parametrize(
    ("path", "answer"),
    [("/medications/", "Zoloft (sertraline)"), ("/learn/", "guides match")],
    ids=["medicines", "guides"],
)
def test_typing_in_a_live_search_puts_no_medicine_name_in_any_address(
    live_server, page: Page, browser_log: BrowserLog, seeded, path, answer
):
    posted = []
    page.on("request", lambda request: posted.append((request.method, request.url, request.post_data or "")))
    page.goto(live_server.url + path)
    box = page.locator("input[type=search]")
    box.press_sequentially("zoloft")
    expect(page.locator("#search-results, #article-results").first).to_contain_text(answer)
    assert not [url for _method, url, _body in posted if "zoloft" in url.lower()]
    assert any(method == "POST" and "zoloft" in body for method, _url, body in posted)
    browser_log.assert_clean(origin(live_server.url))
