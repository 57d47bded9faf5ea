"""`{% finding_cards report.findings report.content %}`: finding cards, each rendered once per content
version and language.

The check page and the provider sheet (`paper=True`) show the same card from the same template.

A card is the same for every list that has the same finding, except for its position on the page
(`dom_id`) and the list's own names for the pair (`pair_label`: brand labels, doses). The card is
rendered once with a slot in place of each of those, kept with the reviewed content it came from
(so a publish drops it), and each page fills the slots, escaped just as the template would escape them.
Nothing kept holds a person's list: the key is the finding itself, never the entries it was placed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import count

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from interactions.checker import ReviewedContent
from interactions.report import FindingView

register = template.Library()

CARD_TEMPLATE = "interactions/includes/finding.html"
# What the card reads from the page's context besides `item` (from the site context processor).
CARD_CONTEXT = ("EMERGENCY_NUMBER", "POISON_CONTROL")
# What differs between lists for the same finding: filled in per page.
SLOT_FIELDS = ("dom_id", "pair_label")
# Off only in tests that compare the cached cards with cards rendered afresh.
CACHE_CARDS = True

# A raw "<" cannot come out of an escaped value, so a slot can never be confused with content.
_SLOT = re.compile(r"<medwise-slot:(\d+):(\w+)>")


@dataclass(frozen=True)
class _Slotted:
    """A card's markup cut at its slots: parts[0], slot 0, parts[1], slot 1, ..., parts[-1]. Slot i
    holds value slots[i] of the card's views' values: view n's dom_id is value 2n, its pair label 2n+1
    (views numbered depth first, as _views() lists them)."""

    parts: tuple[str, ...]
    slots: tuple[int, ...]

    def fill(self, views: list[FindingView], escaped: dict[str, str]) -> str:
        """The card with this list's values in its slots. A dom_id is made from numbers (report.py);
        a label is escaped as the template would escape it, once a page (`escaped`)."""
        values = []
        for view in views:
            label = view.pair_label
            text = escaped.get(label)
            if text is None:
                text = escaped[label] = conditional_escape(label)
            values += (view.dom_id, text)
        parts = self.parts
        out = [parts[0]]
        for slot, part in zip(self.slots, parts[1:], strict=True):
            out += (values[slot], part)
        return "".join(out)


@register.simple_tag(takes_context=True)
def finding_cards(
    context: template.Context, items: list[FindingView], content: ReviewedContent | None, *, paper: bool = False
) -> str:
    """The cards for `items`, in order; `paper=True` gives the provider sheet's: compact, with nothing
    folded away. The card template, its context and the language are looked up once for them all."""
    card = context.template.engine.get_template(CARD_TEMPLATE)
    extra = {name: context.get(name) for name in CARD_CONTEXT} | {"paper": paper}
    if content is None or not CACHE_CARDS:
        cards = (_ascii(card.render(context.new({"item": item, **extra}))) for item in items)
        return mark_safe("".join(cards))  # noqa: S308 - rendered by the template
    head = ("finding-card", get_language(), tuple(extra.values()))
    escaped: dict[str, str] = {}
    html = []
    kept = content.rendered
    for item in items:
        views = _views(item)
        key = (head, tuple(map(_view_key, views)))
        slotted = kept(key, lambda item=item: _render_slotted(card, context, item, extra))
        html.append(slotted.fill(views, escaped))
    return mark_safe("".join(html))  # noqa: S308 - rendered by the template, slots escaped in fill()


def _views(item: FindingView) -> list[FindingView]:
    """The card's view and the ones folded inside it, depth first: the order slots are numbered in."""
    if not item.also:
        return [item]
    return [item, *(view for also in item.also for view in _views(also))]


def _view_key(view: FindingView) -> tuple:
    # What the card shows of the view besides its slots; the finding's own content is worked out once.
    return (view.finding.content_key, view.icon, view.via, view.question, len(view.also))


def _render_slotted(card, context: template.Context, item: FindingView, extra: dict) -> _Slotted:
    counter = count()

    def slotted(view: FindingView) -> FindingView:
        number = next(counter)
        slots = {field: mark_safe(f"<medwise-slot:{number}:{field}>") for field in SLOT_FIELDS}  # noqa: S308
        return replace(view, **slots, also=tuple(slotted(also) for also in view.also))

    html = _ascii(card.render(context.new({"item": slotted(item), **extra})))
    pieces = _SLOT.split(html)
    numbers, fields = pieces[1::3], pieces[2::3]
    slots = tuple(2 * int(number) + SLOT_FIELDS.index(field) for number, field in zip(numbers, fields, strict=True))
    return _Slotted(parts=tuple(pieces[0::3]), slots=slots)


def _ascii(html: str) -> str:
    """The card with every character beyond ASCII as a character reference (the icons, a name's "å").

    A browser shows the same text. Python keeps a string with even one such character at two or four
    bytes a character, so a long list's page of cards (hundreds of kB) would be copied at twice the
    size at every step from the template to the response, and encoded character by character.
    """
    return html.encode("ascii", "xmlcharrefreplace").decode("ascii")
