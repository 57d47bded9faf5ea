"""The provider sheet (check/print/): one or two Letter pages a doctor will read, measured by printing
to PDF in real Chromium; typed-in fields that print but never leave the page."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, TEN_WITH_SUBSTANCES, BrowserLog, origin, set_list

pytestmark = pytest.mark.django_db(transaction=True)

# Ten medicines and no substances: an MAO inhibitor with serotonin medicines, statins, blood pressure.
TEN_MEDICINES = [
    ("phenelzine",),
    ("sertraline",),
    ("simvastatin",),
    ("amlodipine",),
    ("lisinopril",),
    ("metformin",),
    ("atorvastatin",),
    ("buspirone",),
    ("tramadol",),
    ("gabapentin",),
]
SUBSTANCES = {"Alcohol", "Kratom", "Cannabis"}
LETTER_PAGE_LIMIT = 2
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF Chromium wrote: its page objects, checked against the page tree's count."""
    pages = len(PAGE_OBJECT.findall(pdf))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf, re.DOTALL)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf, re.DOTALL)]
    assert pages >= 1, "no page objects found: is this a PDF?"
    assert not counts or max(counts) == pages, (pages, counts)
    return pages


def open_sheet(page: Page, base_url: str, entries) -> None:
    set_list(page, base_url, entries)
    page.goto(base_url + "/check/print/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My medicines: notes for my appointment")


@pytest.mark.parametrize("entries", [TEN_WITH_SUBSTANCES, TEN_MEDICINES], ids=["with-substances", "medicines"])
def test_the_summary_for_ten_medicines_prints_on_at_most_two_letter_pages(
    live_server, page: Page, browser_log: BrowserLog, seeded, artifacts_dir, entries
):
    open_sheet(page, live_server.url, entries)
    rows = page.locator(".sheet-table tbody tr")
    expect(rows).to_have_count(10)
    findings = page.locator(".sheet-findings > li")
    assert findings.count() >= 10, "a list this full should bring many findings"
    page.get_by_label("Name").fill("Sam Example")
    page.get_by_label("Date of birth").fill("1 May 1970")
    for field in page.locator(".sheet-table input").all():
        field.fill("50 mg, twice a day")
    page.locator("#sheet-notes").fill("Dizzy in the mornings.\nAsk about my knee.")

    summary = page.pdf(format="Letter")
    (artifacts_dir.parent / f"provider-sheet-{len(entries)}-{entries[0][0]}.pdf").write_bytes(summary)
    summary_pages = pdf_pages(summary)
    assert summary_pages <= LETTER_PAGE_LIMIT, f"the summary takes {summary_pages} Letter pages"

    # The full explanations are a second part: asked for, they start on a page of their own.
    page.get_by_label("Also print the full explanations (they start on a new page)").check()
    with_details = pdf_pages(page.pdf(format="Letter"))
    assert with_details > summary_pages
    browser_log.assert_clean(origin(live_server.url))


def test_the_sheet_keeps_substances_apart_and_emergency_numbers_on_paper(
    live_server, page: Page, browser_log: BrowserLog, seeded
):
    open_sheet(page, live_server.url, TEN_WITH_SUBSTANCES)
    medicines = page.get_by_role("region", name="Medicines I take").locator("tbody th")
    substances = page.get_by_role("region", name="Alcohol and other things I use").locator("tbody th")
    expect(substances).to_have_text(sorted(SUBSTANCES, key=[e[0].title() for e in TEN_WITH_SUBSTANCES].index))
    assert not SUBSTANCES & {name.strip() for name in medicines.all_inner_texts()}
    # The brand the person added, and its dose form, are kept.
    expect(medicines.first).to_contain_text("Vivitrol (naltrexone)")
    expect(medicines.first.locator(".sheet-form")).to_have_text("Monthly shot (Vivitrol)")

    questions = page.get_by_role("region", name="Questions to ask my provider")
    first = questions.locator(".sheet-findings > li").first
    expect(first).to_contain_text(re.compile(r"^Avoid combining .+ Ask: .+\?$"))

    page.emulate_media(media="print")
    for chrome in (
        page.get_by_role("navigation", name="Main"),
        page.get_by_role("link", name="Privacy: your list stays on your device"),
        page.get_by_role("link", name="Back to my list"),
        page.get_by_label("Also print the full explanations (they start on a new page)"),
        page.locator(".site-footer"),
    ):
        expect(chrome).to_be_hidden()
    expect(page.locator(".sheet-details")).to_be_hidden()  # part 2 only when asked for
    emergency = page.locator(".sheet-summary .sheet-emergency")
    expect(emergency).to_be_visible()
    for number in ("911", "988", "1-800-222-1222"):
        expect(emergency).to_contain_text(number)
    expect(page.get_by_label("Name")).to_be_visible()
    expect(page.get_by_role("heading", name="Notes", exact=True)).to_be_visible()
    browser_log.assert_clean(origin(live_server.url))


def test_what_the_person_types_never_leaves_the_page(live_server, page: Page, browser_log: BrowserLog, seeded):
    sent: list[str] = []
    page.on("request", lambda request: sent.append(f"{request.url} {request.post_data or ''}"))
    # Printing itself cannot be driven headless: count the calls the button makes instead.
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    open_sheet(page, live_server.url, TEN_WITH_SUBSTANCES[:3])
    typed = {"Name": "Zebulon Quartermain", "Date of birth": "29 February 1964"}
    for label, text in typed.items():
        page.get_by_label(label).fill(text)
    page.get_by_label("Prescriber of Oxycodone").fill("Dr Orsolya Vantongeren")
    page.locator("#sheet-notes").fill("Xylophone rash")

    expect(page.locator("[data-print-help]")).to_be_hidden()
    page.get_by_role("button", name="Print this sheet").click()
    assert page.evaluate("window.__printed") == 1
    page.get_by_role("link", name="Back to my list").click()
    expect(page.locator("#list-heading")).to_have_text("Your list: 3 medicines")
    page.go_back()
    for text in [*typed.values(), "Vantongeren", "Xylophone"]:
        leaked = [r for r in sent if text.lower() in r.lower() or text.replace(" ", "+").lower() in r.lower()]
        assert not leaked, f"{text!r} was sent: {leaked}"
    browser_log.assert_clean(origin(live_server.url))


def test_without_javascript_the_sheet_says_to_use_the_browsers_print(live_server, browser, seeded):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        open_sheet(page, live_server.url, TEN_WITH_SUBSTANCES[:3])
        expect(page.get_by_role("button", name="Print this sheet")).to_be_hidden()
        expect(page.locator("[data-print-help]")).to_have_text("To print, use your browser's Print command.")
        # The optional second part still works: a checkbox and print CSS, no script.
        page.emulate_media(media="print")
        expect(page.locator(".sheet-details")).to_be_hidden()
        page.emulate_media(media="screen")
        page.get_by_label("Also print the full explanations (they start on a new page)").check()
        page.emulate_media(media="print")
        expect(page.locator(".sheet-details")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_the_sheet_has_no_axe_violations_and_fits_the_screen(
    live_server, page: Page, browser_log: BrowserLog, seeded, artifacts_dir, viewport
):
    page.set_viewport_size(viewport)
    open_sheet(page, live_server.url, TEN_WITH_SUBSTANCES)
    expect(page.get_by_role("button", name="Print this sheet")).to_be_visible()
    path = artifacts_dir / f"provider-sheet-{viewport['width']}.png"
    path.unlink(missing_ok=True)
    # The page and its part 1 (part 2 at phone width is many screens of the check page's cards).
    summary = page.locator(".sheet-summary").bounding_box()
    assert summary is not None
    # A viewport as tall as part 1: a full-page capture of the whole long page is slow under load.
    page.set_viewport_size({"width": viewport["width"], "height": int(summary["y"] + summary["height"] + 16)})
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    page.set_viewport_size(viewport)
    assert path.stat().st_size > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    browser_log.assert_clean(origin(live_server.url))
