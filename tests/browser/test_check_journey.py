"""A patient's journey on the check page in a real browser: with JavaScript (htmx) at phone width, and without it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Browser, Page, expect

from interactions.medlist import cookie_name
from tests.browser.conftest import PHONE, TEN_WITH_SUBSTANCES, BrowserLog, list_heading, origin, set_list
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)

# The shot's and the tablet's standing messages both warn that an old opioid dose can now kill.
OVERDOSE_MESSAGE = re.compile("opioid dose you used to take can now kill you")
SHOT_FINDING = "Naltrexone shot (Vivitrol) and opioid pain medicines"
TABLET_FINDING = "Naltrexone tablets and opioid pain medicines"


def assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at {PHONE['width']} px: scrollWidth is {width}"


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument") == "yes", "the page reloaded; htmx should have updated it in place"


def suggestions_for(typed: str):
    """Matches the suggest request for the whole typed text (earlier ones may be replaced while typing)."""

    def matches(response) -> bool:
        request = response.request
        return response.url.endswith("/check/suggest/") and parse_qs(request.post_data or "").get("q") == [typed]

    return matches


def pick_with_keyboard(page: Page, typed: str, expected_option: str) -> None:
    box = page.get_by_role("combobox", name="Add a medicine")
    with page.expect_response(suggestions_for(typed)) as suggested:
        box.press_sequentially(typed)
    assert suggested.value.ok
    listbox = page.get_by_role("listbox", name="Medicines to add")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    first = listbox.get_by_role("option").first
    expect(first).to_have_text(expected_option)
    assert_no_horizontal_scroll(page)
    box.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    box.press("Enter")


def test_check_journey_with_javascript_at_phone_width(live_server, page: Page, browser_log: BrowserLog, seeded):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/check/")
    expect(list_heading(page)).to_have_text("Your list: 0 medicines")
    assert_no_horizontal_scroll(page)
    # A marker that only survives while the document is not reloaded.
    page.evaluate("window.__sameDocument = 'yes'")
    box = page.get_by_role("combobox", name="Add a medicine")

    pick_with_keyboard(page, "Vivitrol", "Vivitrol (naltrexone) · Monthly shot (Vivitrol)")
    expect(list_heading(page)).to_have_text("Your list: 1 medicine")
    expect(page.locator("#medlist .notice")).to_have_text("Added Naltrexone.")
    expect(box).to_have_value("")
    expect(page.get_by_role("listbox", name="Medicines to add")).to_be_hidden()
    expect(page.get_by_label("Which Naltrexone do you take?")).to_have_value("naltrexone-injection")
    assert_not_reloaded(page)

    pick_with_keyboard(page, "oxycodone", "Oxycodone")
    expect(list_heading(page)).to_have_text("Your list: 2 medicines")
    expect(page.locator("#medlist .notice")).to_have_text("Added Oxycodone.")
    findings = page.locator("#findings")
    expect(findings.locator(".finding .badge")).to_have_text(re.compile(r"Avoid combining"))
    expect(findings.locator(".finding-title")).to_have_text(SHOT_FINDING)
    expect(findings.locator(".safety")).to_contain_text(OVERDOSE_MESSAGE)
    expect(page.locator("#announce")).to_contain_text("Added Oxycodone.")
    assert_no_horizontal_scroll(page)
    assert_not_reloaded(page)

    # The answer comes first: at phone size the first verdict is on screen without scrolling.
    badge = findings.locator(".finding .badge").first
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "check-phone-answer-first.png"))
    box_of_badge = badge.bounding_box()
    assert box_of_badge is not None and box_of_badge["y"] + box_of_badge["height"] <= PHONE["height"], box_of_badge

    # With JavaScript a new dose applies at once: no separate button press.
    page.get_by_label("Which Naltrexone do you take?").select_option(label="Tablet, usually 50 mg a day")
    expect(page.locator("#medlist .notice")).to_have_text("Dose updated. The results below now match it.")
    expect(findings.locator(".finding-title")).to_have_text(TABLET_FINDING)
    # Vivitrol means the shot: at another dose the entry goes back to its generic name.
    expect(findings.locator(".finding .pair")).to_have_text("Naltrexone (standard tablet) with Oxycodone")
    expect(page.get_by_label("Which Naltrexone do you take?")).to_have_value("naltrexone-tablet")
    assert_not_reloaded(page)

    page.get_by_role("button", name="Remove Oxycodone").click()
    expect(list_heading(page)).to_have_text("Your list: 1 medicine")
    expect(page.locator("#medlist .notice")).to_have_text("Removed Oxycodone.")
    expect(findings.locator(".finding")).to_have_count(0)
    expect(findings.locator(".safety")).to_contain_text(OVERDOSE_MESSAGE)  # for everyone on naltrexone
    # The pressed button is gone with its row: focus must land somewhere useful, not on <body>.
    expect(list_heading(page)).to_be_focused()
    assert page.evaluate("document.activeElement !== null && document.activeElement !== document.body")
    assert_no_horizontal_scroll(page)
    assert_not_reloaded(page)

    with page.expect_navigation():  # htmx gets HX-Refresh and reloads the page
        page.get_by_role("button", name="Clear my list").click()
    expect(list_heading(page)).to_have_text("Your list: 0 medicines")
    expect(page.locator("#medlist .entry")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is None, "Clear my list should reload the whole page"
    assert not [c for c in page.context.cookies() if c["name"] == cookie_name()]
    assert_no_horizontal_scroll(page)

    browser_log.assert_clean(origin(live_server.url))


def test_check_journey_without_javascript(live_server, browser: Browser, seeded):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        log = BrowserLog().attach(page)
        page.goto(live_server.url + "/check/")
        expect(list_heading(page)).to_have_text("Your list: 0 medicines")

        def submit(button_name: str, path: str) -> None:
            with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(path)) as posted:
                page.get_by_role("button", name=button_name, exact=True).click()
            assert posted.value.status == 302
            assert posted.value.headers["location"] == "/check/"
            page.wait_for_load_state()
            assert page.url == live_server.url + "/check/"

        page.get_by_role("combobox", name="Add a medicine").fill("Vivitrol")
        submit("Add", "/check/add/")
        expect(list_heading(page)).to_have_text("Your list: 1 medicine")
        expect(page.locator("#medlist .notice")).to_have_text("Added Naltrexone.")
        expect(page.get_by_label("Which Naltrexone do you take?")).to_have_value("naltrexone-injection")

        page.get_by_role("combobox", name="Add a medicine").fill("oxycodone")
        submit("Add", "/check/add/")
        expect(list_heading(page)).to_have_text("Your list: 2 medicines")
        findings = page.locator("#findings")
        expect(findings.locator(".finding .badge")).to_have_text(re.compile(r"Avoid combining"))
        expect(findings.locator(".finding-title")).to_have_text(SHOT_FINDING)
        expect(findings.locator(".safety")).to_contain_text(OVERDOSE_MESSAGE)

        page.get_by_label("Which Naltrexone do you take?").select_option("naltrexone-tablet")
        submit("Change dose", "/check/dose/")
        expect(page.locator("#medlist .notice")).to_have_text("Dose updated. The results below now match it.")
        expect(findings.locator(".finding-title")).to_have_text(TABLET_FINDING)
        expect(page.get_by_label("Which Naltrexone do you take?")).to_have_value("naltrexone-tablet")

        submit("Remove Oxycodone", "/check/remove/")
        expect(list_heading(page)).to_have_text("Your list: 1 medicine")
        expect(page.locator("#medlist .notice")).to_have_text("Removed Oxycodone.")
        expect(findings.locator(".finding")).to_have_count(0)

        submit("Clear my list", "/check/clear/")
        expect(list_heading(page)).to_have_text("Your list: 0 medicines")
        expect(page.locator("#medlist .entry")).to_have_count(0)
        assert not [c for c in context.cookies() if c["name"] == cookie_name()]

        log.assert_clean(origin(live_server.url))
    finally:
        context.close()


def test_tampered_list_cookie_shows_friendly_notice(live_server, page: Page, browser_log: BrowserLog, seeded):
    # The cookie is "medlist" in development and "__Host-medlist" when DEBUG is off (as under pytest-django):
    # tamper with both, so the test means the same in either mode.
    page.context.add_cookies(
        [
            {"name": name, "value": "not-a-real-list", "domain": "localhost", "path": "/", "secure": True}
            for name in sorted({"medlist", cookie_name()})
        ]
    )
    response = page.goto(live_server.url + "/check/")
    assert response is not None and response.status == 200
    expect(page).to_have_title(re.compile("Check your medicines"))
    expect(page.locator("#medlist .notice")).to_have_text(
        "Your saved list had expired or could not be read, so we started a new one."
    )
    expect(list_heading(page)).to_have_text("Your list: 0 medicines")
    expect(page.get_by_role("combobox", name="Add a medicine")).to_be_editable()
    # The bad cookie is replaced, and the notice is shown once.
    assert [c["value"] for c in page.context.cookies() if c["name"] == cookie_name()] != ["not-a-real-list"]
    page.reload()
    expect(page.locator("#medlist .notice")).to_have_count(0)
    browser_log.assert_clean(origin(live_server.url))


def test_with_javascript_a_rate_limit_shows_a_polite_message(live_server, page: Page, seeded, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "edit": 1}  # one change to the list a minute
    page.goto(live_server.url + "/check/")
    box = page.get_by_role("combobox", name="Add a medicine")
    box.fill("zoloft")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(list_heading(page)).to_have_text("Your list: 1 medicine")
    box.fill("tramadol")
    page.get_by_role("button", name="Add", exact=True).click()
    notice = page.locator("#rate-limit-notice")
    expect(notice).to_contain_text("Too many requests")
    expect(notice).to_be_visible()
    expect(list_heading(page)).to_have_text("Your list: 1 medicine")  # nothing silently lost or added


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(
    "entries",
    [
        [("naltrexone", "naltrexone-injection", "Vivitrol"), ("oxycodone",)],
        TEN_WITH_SUBSTANCES,
    ],
    ids=["2", "10"],
)
def test_at_360_by_800_the_first_verdict_is_on_screen_without_scrolling(
    live_server, browser: Browser, seeded, entries, javascript
):
    context = browser.new_context(viewport={"width": 360, "height": 800}, java_script_enabled=javascript)
    try:
        page = context.new_page()
        set_list(page, live_server.url, entries)
        page.goto(live_server.url + "/check/")
        expect(page.locator("#medlist .entry")).to_have_count(len(entries))
        badge = page.locator("#findings .finding .badge").first
        expect(badge).to_have_text(re.compile("Avoid combining"))
        box = badge.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, box
        assert page.evaluate("window.scrollY") == 0
    finally:
        context.close()
