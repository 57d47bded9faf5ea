"""`{% finding_cards report %}`: a report's finding cards, each rendered once per content version and
language.

The check page and the provider sheet (`paper=True`) show the same card from the same template.

A card is the same for every list that has the same pair of medicines at the same doses (or the
same whole-list findings), except for its place on the page (its element ids) and the list's own
names for the pair (its label: brand labels, doses). The card is rendered once with a slot in place
of each of those, kept with the reviewed content it came from (so a publish drops it), and each page
fills the slots: the place is a number, the label is escaped just as the template would escape it.
Nothing kept holds a person's list: the key is the pair's answer (kept per medicines and doses) or
the findings themselves, never a list's positions or names.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from core.escaping import escaped
from interactions.report import Card, Report

register = template.Library()

CARD_TEMPLATE = "interactions/includes/finding.html"
# What the card reads from the page's context besides `item` (from the site context processor).
CARD_CONTEXT = ("EMERGENCY_NUMBER", "POISON_CONTROL")
# Off only in tests that compare the cached cards with cards rendered afresh.
CACHE_CARDS = True

# A raw "<" cannot come out of an escaped value, so a slot can never be confused with content.
PLACE_SLOT, LABEL_SLOT = "<medwise-slot:place>", "<medwise-slot:label>"


class _Slotted:
    """A card's markup cut at its slots, so filling it is a few joins: cut at the label slot, and each
    piece cut at the place slots."""

    __slots__ = ("pieces",)

    def __init__(self, html: str) -> None:
        self.pieces = tuple(tuple(piece.split(PLACE_SLOT)) for piece in html.split(LABEL_SLOT))

    def fill(self, place: str, label: str) -> str:
        """The card at `place` with `label`, which is already escaped."""
        pieces = self.pieces
        if len(pieces) == 2:  # a card names its pair once
            before, after = pieces
            return "".join((place.join(before), label, place.join(after)))
        return label.join([place.join(parts) for parts in pieces])

    def __repr__(self) -> str:
        return f"_Slotted({self.pieces!r})"


@register.simple_tag(takes_context=True)
def finding_cards(context: template.Context, report: Report, *, paper: bool = False) -> str:
    """The report's cards, in order; `paper=True` gives the provider sheet's: compact, with nothing
    folded away. The card template, its context and the language are looked up once for them all."""
    card_template = context.template.engine.get_template(CARD_TEMPLATE)
    extra = {name: context.get(name) for name in CARD_CONTEXT} | {"paper": paper}

    def render(card: Card, place: str, label: str | None = None) -> str:
        view = card.view(report.words, place, label)
        return _ascii(card_template.render(context.new({"item": view, **extra})))

    if report.content is None or not CACHE_CARDS:
        html = (render(card, str(place)) for place, card in enumerate(report.cards, start=1))
        return mark_safe("".join(html))  # noqa: S308 - rendered by the template
    head = ("finding-card", get_language(), *extra.values())
    cards = report.cards
    slotted = report.content.rendered_all(
        [(head, card.content_key) for card in cards],
        lambda i: _Slotted(render(cards[i], mark_safe(PLACE_SLOT), mark_safe(LABEL_SLOT))),  # noqa: S308
    )
    places = range(1, len(cards) + 1)
    html = [kept.fill(str(place), _label(card.label)) for place, kept, card in zip(places, slotted, cards, strict=True)]
    return mark_safe("".join(html))  # noqa: S308 - rendered by the template, the label escaped


def _label(label: str) -> str:
    """A card's label as the template would write it in the card: escaped, in ASCII (_ascii)."""
    label = escaped(label)
    return label if label.isascii() else _ascii(label)


def _ascii(html: str) -> str:
    """The card with every character beyond ASCII as a character reference (the icons, a name's "å").

    A browser shows the same text. Python keeps a string with even one such character at two or four
    bytes a character, so a long list's page of cards (hundreds of kB) would be copied at twice the
    size at every step from the template to the response, and encoded character by character.
    """
    return html.encode("ascii", "xmlcharrefreplace").decode("ascii")
