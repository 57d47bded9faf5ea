"""A token that changes whenever reviewed content changes, kept in the database.

Every app process reads it (one small query) before it uses cached content, so a publish in one
process is seen by all the others at once, whether the shared cache is local memory or Redis.
The token lives in Django's database cache table (created by `createcachetable`), so it is
written in the same transaction as the content: a rolled-back edit rolls the token back too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache, caches

VERSION_CACHE = "content_version"
VERSION_KEY = "content-version"
T = TypeVar("T")


def current() -> str:
    return caches[VERSION_CACHE].get(VERSION_KEY) or "initial"


def bump(**kwargs) -> None:
    """Content changed: a new random token, so every cache keyed on the old one is unused from now on.

    Random rather than counted, so two processes bumping at once can never end up on the same value.
    """
    caches[VERSION_CACHE].set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def cached(name: str, version: str, build: Callable[[], T], timeout: int = 3600) -> T:
    """The value cached for this content version, built and stored on a miss."""
    key = f"content:{name}:{version}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
    return value
