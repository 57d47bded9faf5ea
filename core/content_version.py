"""A token that changes whenever reviewed content changes, kept in the database.

Every app process reads it (one small query) before it uses cached content, so a publish in one
process is seen by all the others at once, whether the shared cache is local memory or Redis.
The token lives in Django's database cache table (created by `createcachetable`), so it is
written in the same transaction as the content: a rolled-back edit rolls the token back too.
"""

from __future__ import annotations

import base64
import functools
import logging
import pickle
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router

logger = logging.getLogger(__name__)
VERSION_CACHE = "content_version"
VERSION_KEY = "content-version"
T = TypeVar("T")


def current() -> str:
    """The token now: read on every request that uses cached content, so it is one plain query."""
    store = caches[VERSION_CACHE]
    if not isinstance(store, DatabaseCache):
        return store.get(VERSION_KEY) or "initial"
    # What DatabaseCache.get() reads, without its per-call key checks, SQL building and expiry
    # arithmetic (a third of a small page's time): bump() is the only writer, and sets no expiry.
    alias = router.db_for_read(store.cache_model_class)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(_select_sql(alias, store._table), [_cache_key(store)])
        row = cursor.fetchone()
    if row is None:
        return "initial"
    value = connection.ops.process_clob(row[0])
    return pickle.loads(base64.b64decode(value.encode())) or "initial"  # noqa: S301 - our own cache table


@functools.cache
def _select_sql(alias: str, table: str) -> str:
    quote = connections[alias].ops.quote_name
    return f"SELECT {quote('value')} FROM {quote(table)} WHERE {quote('cache_key')} = %s"  # noqa: S608 - names


def _cache_key(store: DatabaseCache) -> str:
    return store.make_and_validate_key(VERSION_KEY)


_deferred = threading.local()


def bump(**kwargs) -> None:
    """Content changed: a new random token, so every cache keyed on the old one is unused from now on.

    Random rather than counted, so two processes bumping at once can never end up on the same value.
    """
    if getattr(_deferred, "depth", 0):
        _deferred.pending = True
        return
    caches[VERSION_CACHE].set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


@contextmanager
def one_bump() -> Iterator[None]:
    """A bulk load changes the version once at the end, not once per row."""
    _deferred.depth = getattr(_deferred, "depth", 0) + 1
    try:
        yield
    finally:
        _deferred.depth -= 1
        if _deferred.depth == 0 and getattr(_deferred, "pending", False):
            _deferred.pending = False
            bump()


def cached(name: str, version: str, build: Callable[[], T | None], timeout: int = 3600) -> T | None:
    """The value cached for this content version, built and stored on a miss (None is not stored)."""
    key = f"content:{name}:{version}"
    try:
        value = cache.get(key)
    except Exception:  # the shared cache is down: build it here, and keep serving
        logger.warning("Shared cache unavailable; built %s without it.", name, exc_info=True)
        return build()
    if value is None:
        value = build()
        if value is None:
            return None
        try:
            cache.set(key, value, timeout)
        except Exception:
            logger.warning("Shared cache unavailable; %s not stored.", name, exc_info=True)
    return value
