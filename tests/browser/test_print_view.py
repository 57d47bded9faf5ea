"""The printable summary a person takes to an appointment."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from tests.browser.conftest import BrowserLog, build_list, origin

pytestmark = pytest.mark.django_db(transaction=True)


def printed_on(day) -> str:
    return "Printed on " + date_format(day, "DATE_FORMAT") + "."


def test_print_view_shows_list_findings_questions_and_date(live_server, page: Page, browser_log: BrowserLog, seeded):
    build_list(page, live_server.url, ["Vivitrol", "oxycodone", "sertraline"])
    before = timezone.localdate()
    page.goto(live_server.url + "/check/print/")
    after = timezone.localdate()

    expect(page.get_by_role("heading", level=1)).to_have_text("My medicines: notes for my appointment")
    expect(page.get_by_text(re.compile(r"^Printed on "))).to_have_text(
        re.compile("|".join(re.escape(printed_on(day)) for day in {before, after}))
    )
    medicines = page.get_by_role("region", name="Medicines I take").locator("tbody th")
    # The brand the person added is kept on paper too, with its dose form.
    expect(medicines).to_have_text(["Vivitrol (naltrexone)Monthly shot (Vivitrol)", "Oxycodone", "Sertraline"])

    questions = page.get_by_role("region", name="Questions to ask my provider")
    expect(questions.get_by_role("heading", level=2)).to_be_visible()
    expect(questions.locator(".sheet-findings > li").first).to_contain_text(
        "Avoid combining Vivitrol (naltrexone, monthly injection) with Oxycodone"
    )
    expect(questions.locator("ul.checklist > li").first).to_be_visible()

    findings = page.get_by_role("region", name="What the checker found")
    # Part 2 is the check page's card, printed whole.
    expect(findings.locator(".print-finding h3").first).to_have_text(
        "✖ Avoid combining Naltrexone shot (Vivitrol) and opioid pain medicines"
    )
    expect(findings.locator(".safety")).to_contain_text("opioid dose you used to take can now kill you")
    signs = findings.locator(".print-finding .urgent li")
    expect(signs.first).to_contain_text("call 911")
    for text in signs.all_inner_texts():
        assert not re.search(r"[.;]{2}", text), f"doubled punctuation in an emergency sign: {text!r}"

    # On screen there is a way back; on paper, no navigation and no forms.
    nav = page.get_by_role("navigation", name="Main")
    back = page.get_by_role("link", name="Back to my list")
    expect(nav).to_be_visible()
    expect(back).to_be_visible()
    page.emulate_media(media="print")
    expect(nav).to_be_hidden()
    expect(back).to_be_hidden()
    expect(page.get_by_role("link", name="Skip to main content")).to_be_hidden()
    for form in page.locator("form").all():
        expect(form).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(medicines.first).to_be_visible()
    expect(questions.locator("ul.checklist > li").first).to_be_visible()
    expect(findings.locator(".print-finding").first).to_be_hidden()  # the full explanations: only when asked for
    page.emulate_media(media="screen")
    page.get_by_label("Also print the full explanations (they start on a new page)").check()
    page.emulate_media(media="print")
    expect(findings.locator(".print-finding").first).to_be_visible()
    expect(page.locator(".sheet-emergency")).to_contain_text("Need help now?")  # emergency numbers stay on paper

    browser_log.assert_clean(origin(live_server.url))


def test_check_page_hides_navigation_and_forms_when_printed(live_server, page: Page, browser_log: BrowserLog, seeded):
    build_list(page, live_server.url, ["Vivitrol", "oxycodone"])
    forms = page.locator("form")
    assert forms.count() >= 4  # add, dose, two removes, clear
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    for form in forms.all():
        expect(form).to_be_hidden()
    expect(page.locator("#medlist .entry-name")).to_have_text(["Vivitrol (naltrexone)", "Oxycodone"])
    expect(page.locator("#findings .finding")).to_have_count(1)
    browser_log.assert_clean(origin(live_server.url))
