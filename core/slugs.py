"""Which text may be used as a slug."""

from __future__ import annotations

import re

from django.core.validators import slug_re

# Slugs we write ourselves (content packs): lower case words joined by single hyphens.
CONTENT_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 200


def is_slug(text: str) -> bool:
    """Only slug-shaped text reaches a query (PostgreSQL refuses NUL bytes, for one)."""
    return bool(text) and len(text) <= MAX_SLUG_LENGTH and slug_re.fullmatch(text) is not None


def is_content_slug(text: str) -> bool:
    return CONTENT_SLUG.fullmatch(text) is not None
