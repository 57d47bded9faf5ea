"""Helpers for the real-browser tests: what the browser logs and fetches, and building a list the way a person does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

# The serious list used for accessibility checks and screenshots: naltrexone with an opioid, an SSRI,
# tramadol (serotonin and opioid) and a benzodiazepine.
FIVE_MEDICINES = ["Vivitrol", "oxycodone", "sertraline", "tramadol", "alprazolam"]
# Ten entries with many findings: an opioid blocker, opioids, a serotonin medicine, a benzodiazepine,
# a blood thinner with an NSAID, and three substances (38 findings on one list).
TEN_WITH_SUBSTANCES = [
    ("naltrexone", "naltrexone-injection", "Vivitrol"),
    ("oxycodone",),
    ("sertraline",),
    ("tramadol",),
    ("alprazolam",),
    ("warfarin",),
    ("ibuprofen",),
    ("alcohol",),
    ("kratom",),
    ("cannabis",),
]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class BrowserLog:
    """Everything a page logs or requests, recorded from the moment it is attached."""

    console: list[tuple[str, str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> BrowserLog:
        page.on("console", lambda msg: self.console.append((msg.type, msg.text, msg.location.get("url", ""))))
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", self._request_failed)
        page.on(
            "response",
            lambda response: response.status >= 400 and self.failed.append(f"{response.status} {response.url}"),
        )
        return self

    def _request_failed(self, request) -> None:
        # htmx cancels a superseded suggest request (hx-sync replace): that abort is expected, not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.url} {request.failure}")

    def assert_clean(self, allowed_origin: str) -> None:
        errors = [m for m in self.console if m[0] == "error"]
        csp = [m for m in self.console if re.search(r"content.security.policy|\bCSP\b", m[1], re.IGNORECASE)]
        assert not errors, f"console errors: {errors}"
        assert not csp, f"CSP messages: {csp}"
        assert not self.page_errors, f"uncaught page errors: {self.page_errors}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert self.requests, "no requests were recorded"
        foreign = [url for url in self.requests if origin(url) != allowed_origin]
        assert not foreign, f"requests to other origins: {foreign}"


@pytest.fixture
def browser_log(page: Page) -> BrowserLog:
    return BrowserLog().attach(page)


def list_heading(page: Page):
    return page.locator("#list-heading")


def add_with_button(page: Page, text: str, expected_count: int) -> None:
    """Type a name, wait for the suggestions as a person would, and press Add (htmx posts the form)."""
    page.get_by_role("combobox", name="Add a medicine").fill(text)
    # Waiting for the suggestions means no suggest request is still pending when the test moves on.
    expect(page.get_by_role("listbox", name="Medicines to add").get_by_role("option").first).to_be_visible()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#medlist .entry")).to_have_count(expected_count)


def build_list(page: Page, base_url: str, names: list[str]) -> None:
    """Build a list through the add form, then load the check page fresh (no notice, no open suggestions)."""
    page.goto(base_url + "/check/")
    for count, name in enumerate(names, start=1):
        add_with_button(page, name, count)
        expect(page.get_by_role("listbox", name="Medicines to add")).to_be_hidden()
    page.goto(base_url + "/check/")
    expect(page.locator("#medlist .entry")).to_have_count(len(names))


def set_list(page: Page, base_url: str, entries: list[tuple[str, ...]]) -> None:
    """Put a list straight into the browser's encrypted cookie, as the add form would leave it
    (each entry: slug, then optionally regimen slug and the brand typed)."""
    from interactions.medlist import MedEntry, MedList, cookie_name, encode

    value = encode(MedList([MedEntry(*entry) for entry in entries]))
    # Chromium takes a __Host- cookie from the test only as a domain cookie on "/" (localhost counts as secure).
    cookie = {"name": cookie_name(), "value": value, "domain": urlsplit(base_url).hostname, "path": "/"}
    page.context.add_cookies([{**cookie, "secure": True, "httpOnly": True}])
