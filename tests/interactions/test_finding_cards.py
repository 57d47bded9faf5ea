"""Finding cards are rendered once per content version and language: the page must not change by a byte."""

from dataclasses import replace
from html import unescape

import pytest
from django.urls import reverse

from interactions import checker, medlist
from interactions.medlist import MedEntry, MedList
from interactions.models import Medication
from interactions.templatetags import finding_cards
from tests.html import without_csrf_tokens

pytestmark = pytest.mark.django_db
CHECK = reverse("interactions:check")
ADD = reverse("interactions:check_add")

LISTS = {
    # Combination products by brand, with the same ingredient twice (hydrocodone, naloxone) and a
    # pair with several answers folded into one card.
    "combinations": [
        ("hydrocodone-and-acetaminophen", None, "Norco"),
        ("buprenorphine-naloxone", None, "Suboxone"),
        ("naloxone",),
        ("acetaminophen",),
        ("naltrexone", "naltrexone-injection", "Vivitrol"),
    ],
    # Naltrexone with no dose: answers by dose. Three serotonergic medicines: whole-list findings.
    "doses and whole list": [
        ("naltrexone",),
        ("sertraline",),
        ("tramadol",),
        ("dextromethorphan",),
        ("phenelzine",),
        ("kratom",),
    ],
    # The same findings as above at other positions, under other names.
    "moved": [
        ("tramadol",),
        ("naltrexone", "naltrexone-low-dose"),
        ("sertraline", None, "Zoloft"),
        ("phenelzine",),
    ],
    # A medicine our reviewed content does not cover: a pair to ask the pharmacist about.
    "not reviewed": [("sertraline",), ("testamine",), ("oxycodone",), ("alcohol",)],
}


@pytest.fixture
def uncovered_medicine():
    Medication.objects.create(slug="testamine", name="Testamine", curated=False)


def page(client, entries, **headers) -> bytes:
    client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry(*e) for e in entries]))
    response = client.get(CHECK, headers=headers)
    assert response.status_code == 200
    return without_csrf_tokens(response.content)


def pages(client, **headers) -> dict[str, bytes]:
    return {name: page(client, entries, **headers) for name, entries in LISTS.items()}


@pytest.fixture
def afresh(client, monkeypatch, uncovered_medicine):
    """Every list's page with each card rendered from the template, as before cards were kept."""
    with monkeypatch.context() as patched:
        patched.setattr(finding_cards, "CACHE_CARDS", False)
        return pages(client)


def test_cards_kept_give_the_same_page_cold_and_warm(client, afresh):
    checker.reviewed_content()._rendered.clear()
    cold = pages(client)
    assert cold == afresh
    assert checker.reviewed_content()._rendered, "the cards were not kept"
    assert pages(client) == afresh  # warm, each card now placed at another list's positions


def test_every_kind_of_card_is_covered(afresh):
    html = b"".join(afresh.values()).decode()
    assert "Norco (hydrocodone" in html and "Suboxone (buprenorphine" in html  # brand labels
    assert "Hydrocodone and acetaminophen contains hydrocodone" in html  # an answer through an ingredient
    assert "This depends on the dose." in html
    assert 'class="also"' in html
    assert "Not reviewed here: ask your pharmacist" in html
    assert '-also-1"' in html
    whole_list = [name for name, body in afresh.items() if b"three or more" in body.lower()]
    assert whole_list, "no whole-list finding in the lists"


def test_a_card_fills_its_slots_escaped(client, monkeypatch, uncovered_medicine):
    # A brand label is shown as the person's list has it: escaped like any text.
    Medication.objects.filter(slug="testamine").update(name='Test<b>"amine"</b>')
    entries = [("sertraline",), ("testamine",), ("tramadol", None, "Ultram")]
    warm = page(client, entries)
    monkeypatch.setattr(finding_cards, "CACHE_CARDS", False)
    assert page(client, entries) == warm
    assert b"<b>" not in warm


def test_a_label_beyond_ascii_reads_the_same_kept_and_afresh(client, monkeypatch):
    # The card is written in ASCII (character references), and so is the label filled into it.
    entries = [("s-adenosylmethionine",), ("buprenorphine", None, "Temgésic")]
    warm = page(client, entries)
    assert "Temg&#233;sic (buprenorphine)" in warm.decode()
    monkeypatch.setattr(finding_cards, "CACHE_CARDS", False)
    assert page(client, entries) == warm


def test_the_htmx_fragment_is_the_same_with_cards_kept(client, monkeypatch, uncovered_medicine):
    entries = LISTS["combinations"]
    client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry(*e) for e in entries]))
    kept = without_csrf_tokens(client.post(ADD, {"q": "tramadol"}, headers={"HX-Request": "true"}).content)
    monkeypatch.setattr(finding_cards, "CACHE_CARDS", False)
    client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry(*e) for e in entries]))
    afresh = client.post(ADD, {"q": "tramadol"}, headers={"HX-Request": "true"}).content
    assert without_csrf_tokens(afresh) == kept


def test_a_publish_drops_the_cards(client, uncovered_medicine):
    entries = LISTS["doses and whole list"]
    before = page(client, entries)
    kept = checker.reviewed_content()
    pair = [checker.CheckEntry("sertraline"), checker.CheckEntry("tramadol")]
    rule = next(f.rule for f in checker.check(pair).findings)
    type(rule).objects.filter(pk=rule.pk).update(summary="A new summary, just approved.")
    after = page(client, entries)
    assert checker.reviewed_content() is not kept
    assert b"A new summary, just approved." in after and after != before


def test_cards_kept_are_bounded(client, monkeypatch, uncovered_medicine):
    monkeypatch.setattr(checker, "RENDERED_CACHE_SIZE", 3)
    pages(client)
    assert len(checker.reviewed_content()._rendered) <= 3


def test_nothing_kept_names_the_list(client, uncovered_medicine):
    # A label as the list cookie carries it (the page shows it; nothing kept may).
    html = page(client, [("sertraline", None, "Sertrabrand"), ("tramadol",)])
    assert b"Sertrabrand (sertraline) with Tramadol" in html
    kept = repr(checker.reviewed_content()._rendered)
    assert "Sertrabrand" not in kept
    assert "finding-1" not in kept


def test_a_findings_content_key_is_its_content_without_its_place():
    pair = [checker.CheckEntry("sertraline"), checker.CheckEntry("tramadol")]
    finding = checker.check(pair).findings[0]
    moved = next(f for f in checker.check([checker.CheckEntry("acetaminophen"), *pair]).findings if f.entries == (1, 2))
    assert moved.entries != finding.entries and moved.content_key == finding.content_key
    assert hash(moved.content_key) == hash(finding.content_key)
    reworded = replace(finding, summary=finding.summary + " More.")
    assert reworded.content_key != finding.content_key
    assert replace(finding, entries=(5, 7)).content_key == finding.content_key


def test_cards_are_ascii_and_say_the_same(client, monkeypatch, uncovered_medicine):
    """Every character past ASCII in a card is a character reference: the page reads the same."""
    pair = [checker.CheckEntry("sertraline"), checker.CheckEntry("tramadol")]
    rule = next(f.rule for f in checker.check(pair).findings)
    type(rule).objects.filter(pk=rule.pk).update(summary="Søren’s note — read it.")
    html = page(client, [("sertraline",), ("tramadol",)]).decode()
    cards = html[html.index('<article class="finding') : html.rindex("</article>")]
    assert cards.isascii() and "&#8212;" in cards and "&#248;" in cards
    assert "Søren’s note — read it." in unescape(cards)
    monkeypatch.setattr(finding_cards, "CACHE_CARDS", False)
    assert page(client, [("sertraline",), ("tramadol",)]).decode() == html
