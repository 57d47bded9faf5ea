"""`{{ values|list_items }}`: an `<li>` for each value, escaped, as a `{% for %}` loop would write it.

A long list's page has hundreds of pair names; a loop pays for a context push and a node render per item.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString, mark_safe

from core.escaping import escaped

register = template.Library()


@register.filter(is_safe=True)
def list_items(values: Iterable[object]) -> SafeString:
    return mark_safe("".join(f"<li>{escaped(value)}</li>" for value in values))  # noqa: S308 - escaped
