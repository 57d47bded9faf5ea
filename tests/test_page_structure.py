"""Every public page's structure: one <h1>, a short plain <title>, unique ids, and labels that point at them.

The guard walks the URL resolver (config.urls and everything it includes), so a new URL pattern is covered the
day it is added: it needs sample arguments in PAGES, or a line in NOT_PAGES saying why it is not a page, or the
first test fails. Patterns under admin/ are the staff site (Django's admin), not the public site: skipped by
that prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from education.models import Article
from interactions import medlist
from interactions.medlist import MedEntry, MedList

pytestmark = pytest.mark.django_db

STAFF_PREFIX = "admin/"
# About 70: the longest guide title with " · MedWise" is 73. Markup pasted into a title runs to hundreds.
TITLE_MAX_CHARS = 75
# Attributes whose value names other elements by id (aria-labelledby and aria-describedby may name several).
ID_REFERENCES = ("for", "aria-labelledby", "aria-describedby")
ROUTE_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")


def first_published_article() -> str:
    return Article.objects.published().order_by("slug").values_list("slug", flat=True).first()


@dataclass(frozen=True)
class Sample:
    """One request for a pattern: its URL arguments (a callable is read inside the test, from the database),
    a query string, and the medicines on the list cookie."""

    kwargs: dict[str, str | Callable[[], str]] = field(default_factory=dict)
    query: str = ""
    medicines: tuple[str, ...] = ()
    marks: tuple = ()

    def url(self, name: str) -> str:
        kwargs = {key: value() if callable(value) else value for key, value in self.kwargs.items()}
        return reverse(name, kwargs=kwargs) + self.query

    def label(self) -> str:
        parts = [f"{key}={getattr(value, '__name__', value)}" for key, value in self.kwargs.items()]
        return ",".join(parts + ([self.query] if self.query else []) + list(self.medicines))


A_LIST = ("naltrexone", "oxycodone", "sertraline", "tramadol", "alcohol", "kratom")

PAGES: dict[str, list[Sample]] = {
    "interactions:home": [Sample(), Sample(medicines=A_LIST)],
    "interactions:check": [Sample(), Sample(medicines=A_LIST)],
    "interactions:check_print": [Sample(), Sample(medicines=A_LIST)],
    "interactions:medication_search": [Sample(), Sample(query="?q=zoloft"), Sample(query="?q=zolft")],
    "interactions:covered": [Sample()],
    "interactions:medication": [
        Sample({"slug": "naltrexone"}),
        Sample({"slug": "sertraline"}),
        Sample({"slug": "hydrocodone-and-acetaminophen"}),  # a combination: "Contains" links
        # an imported, uncovered medicine from the full dictionary
        Sample({"slug": "abacavir"}, marks=(pytest.mark.dictionary,)),
    ],
    "education:article_list": [Sample(), Sample(query="?q=zoloft")],
    "education:article": [
        Sample({"slug": first_published_article}),
        Sample({"slug": "kratom"}),
        Sample({"slug": "precipitated-withdrawal"}),
    ],
    "privacy": [Sample()],
}
NOT_PAGES: dict[str, str] = {
    "interactions:check_add": "POST only: changes the list, then redirects (or answers htmx with fragments)",
    "interactions:check_remove": "POST only: changes the list, then redirects (or answers htmx with fragments)",
    "interactions:check_dose": "POST only: changes the list, then redirects (or answers htmx with fragments)",
    "interactions:check_clear": "POST only: empties the list, then redirects",
    "interactions:check_suggest": "POST only: the live search's fragment of suggestions, not a page",
    "interactions:api_medications": "JSON",
    "interactions:api_check": "JSON",
    "interactions:api_openapi": "JSON (the API's description)",
    "healthz": "JSON for the load balancer",
}


def public_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator[tuple]:
    """(route, name with its namespace) for every pattern outside admin/, through every include."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(STAFF_PREFIX):
            continue
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from public_patterns(entry, route, inner)
        elif isinstance(entry, URLPattern):
            yield route, (namespace + entry.name) if entry.name else None


def test_every_public_url_pattern_is_a_sampled_page_or_said_not_to_be_one():
    patterns = dict(public_patterns())
    unnamed = [route for route, name in patterns.items() if name is None]
    assert not unnamed, f"name these patterns so the guard can sample them: {unnamed}"
    names = set(patterns.values())
    unlisted = names - set(PAGES) - set(NOT_PAGES)
    assert not unlisted, f"add sample arguments to PAGES, or the reason to NOT_PAGES: {sorted(unlisted)}"
    gone = (set(PAGES) | set(NOT_PAGES)) - names
    assert not gone, f"PAGES or NOT_PAGES name patterns that are gone: {sorted(gone)}"
    assert not set(PAGES) & set(NOT_PAGES)


def test_each_sample_gives_exactly_its_patterns_arguments():
    routes = {name: route for route, name in public_patterns()}
    for name, samples in PAGES.items():
        for sample in samples:
            assert set(sample.kwargs) == set(ROUTE_ARGUMENT.findall(routes[name])), (name, sample)


class PageStructure(HTMLParser):
    """What the guard checks, read from the markup as a browser would read it (not by regular expression)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1_count = 0
        self.ids: list[str] = []
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id it names)
        self.title = ""
        self.tags_in_title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_title:
            self.tags_in_title.append(tag)
        if tag == "h1":
            self.h1_count += 1
        if tag == "title":
            self._in_title = True
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids.append(value)
            elif name in ID_REFERENCES and value is not None:
                self.references.extend((tag, name, ref) for ref in value.split())

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _samples():
    for name, samples in PAGES.items():
        for sample in samples:
            yield pytest.param(name, sample, marks=list(sample.marks), id=f"{name}[{sample.label()}]")


@pytest.mark.parametrize(("name", "sample"), list(_samples()))
def test_every_page_has_one_h1_a_short_title_unique_ids_and_labels_that_point_at_them(client, name, sample):
    if sample.medicines:
        client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry(m) for m in sample.medicines]))
    url = sample.url(name)
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/html"), url
    page = PageStructure()
    page.feed(response.content.decode())
    page.close()

    assert page.h1_count == 1, url
    title = " ".join(page.title.split())
    assert not page.tags_in_title, (url, page.tags_in_title)
    assert 0 < len(title) <= TITLE_MAX_CHARS, (url, title)
    duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
    assert not duplicates, (url, duplicates)
    dangling = [ref for ref in page.references if ref[2] not in page.ids]
    assert not dangling, (url, dangling)


@pytest.mark.parametrize(("name", "sample"), [p for p in _samples() if not p.values[1].marks])
def test_every_page_has_a_description_the_disclaimer_and_the_emergency_numbers(client, name, sample):
    html = client.get(sample.url(name)).content.decode()
    assert '<meta name="description" content="' in html
    description = html.split('<meta name="description" content="', 1)[1].split('"', 1)[0]
    assert len(description) >= 20, description
    assert "education, not medical advice" in html
    for number in ("911", "988", "1-800-222-1222"):
        assert number in html
