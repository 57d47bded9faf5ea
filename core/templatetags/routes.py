"""`{% route 'name' %}`: the address of a URL pattern that takes no arguments, worked out once.

The same as `{% url 'name' %}` for such patterns, without resolving the pattern again on every use:
a page with a form per list entry otherwise reverses the same few names dozens of times a request.
"""

from __future__ import annotations

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@register.simple_tag
def route(name: str) -> str:
    # Keyed on everything reverse() reads, so a test's ROOT_URLCONF or a proxy's script prefix is honoured.
    return _reverse(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=512)
def _reverse(name: str, prefix: str, urlconf: str) -> str:
    return reverse(name, urlconf=urlconf)
