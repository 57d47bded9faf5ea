"""Escaping text for HTML the way templates do, for code that writes markup itself."""

from __future__ import annotations

import html

from django.utils.html import conditional_escape


def escaped(value: object) -> str:
    """What `{{ value }}` writes: the same as conditional_escape, which for plain text is html.escape.

    Called directly for a `str`, without the lazy-string checks around Django's escape(): a long
    list's page escapes hundreds of pair names.
    """
    if type(value) is str:
        return html.escape(value)
    return conditional_escape(value)
