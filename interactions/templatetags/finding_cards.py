"""`{% finding_card item report.content %}`: a finding's card, rendered once per content version and language.

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

from interactions.checker import Finding, ReviewedContent
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
# Every field of a finding except where it was placed on the list.
_FINDING_FIELDS = tuple(name for name in Finding.__dataclass_fields__ if name != "entries")


@dataclass(frozen=True)
class _Slotted:
    """A card's markup cut at its slots: parts[0], slot 0, parts[1], slot 1, ..., parts[-1]."""

    parts: tuple[str, ...]
    slots: tuple[tuple[int, str], ...]

    def fill(self, views: list[FindingView]) -> str:
        out = [self.parts[0]]
        for (view, field), part in zip(self.slots, self.parts[1:], strict=True):
            out.append(conditional_escape(getattr(views[view], field)))
            out.append(part)
        return "".join(out)


@register.simple_tag(takes_context=True)
def finding_card(
    context: template.Context, item: FindingView, content: ReviewedContent | None, *, paper: bool = False
) -> str:
    """The card for `item`; `paper=True` is the provider sheet's: compact, with nothing folded away."""
    card = context.template.engine.get_template(CARD_TEMPLATE)
    extra = {name: context.get(name) for name in CARD_CONTEXT} | {"paper": paper}
    if content is None or not CACHE_CARDS:
        return card.render(context.new({"item": item, **extra}))
    views = _views(item)
    key = ("finding-card", get_language(), tuple(extra.values()), tuple(_view_key(v) for v in views))
    slotted = content.rendered(key, lambda: _render_slotted(card, context, item, extra))
    return mark_safe(slotted.fill(views))  # noqa: S308 - rendered by the template, slots escaped in fill()


def _views(item: FindingView) -> list[FindingView]:
    """The card's view and the ones folded inside it, depth first: the order slots are numbered in."""
    return [item, *(view for also in item.also for view in _views(also))]


def _view_key(view: FindingView) -> tuple:
    finding = view.finding
    rule = finding.rule
    return (
        tuple(getattr(finding, name) for name in _FINDING_FIELDS if name != "rule"),
        (type(rule).__name__, rule.pk) if rule is not None else None,
        view.icon,
        view.via,
        view.question,
        len(view.also),
    )


def _render_slotted(card, context: template.Context, item: FindingView, extra: dict) -> _Slotted:
    counter = count()

    def slotted(view: FindingView) -> FindingView:
        number = next(counter)
        slots = {field: mark_safe(f"<medwise-slot:{number}:{field}>") for field in SLOT_FIELDS}  # noqa: S308
        return replace(view, **slots, also=tuple(slotted(also) for also in view.also))

    html = card.render(context.new({"item": slotted(item), **extra}))
    pieces = _SLOT.split(html)
    parts = tuple(pieces[0::3])
    slots = tuple((int(number), field) for number, field in zip(pieces[1::3], pieces[2::3], strict=True))
    return _Slotted(parts, slots)
