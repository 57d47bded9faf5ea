"""Request budgets kept in Django's cache (local memory, or Redis when CACHE_URL is set).

A clinic's waiting room shares one Wi-Fi address, so each request meets two budgets: one for its
medication list (the list cookie's random key), which stops one busy person, and a looser one for the
whole address, which stops a client that drops its cookies. A request stopped by its list's budget
does not count against the address, so one person cannot use up the room's. Page views (reads) get
far looser budgets than list edits (writes).

With several worker processes or servers the cache must be shared (Redis): local memory counts each
process apart.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The client's address as the nearest trusted proxy saw it.

    Each proxy appends the address it received from, so entries are counted from the right: with
    TRUSTED_PROXY_COUNT proxies in front of the app, the entry that many places from the end is the
    client. Entries further left are whatever the client chose to send, and never trusted.
    """
    address = ""
    if settings.CLIENT_IP_HEADER and settings.TRUSTED_PROXY_COUNT:
        entries = [e.strip() for e in request.META.get(settings.CLIENT_IP_HEADER, "").split(",") if e.strip()]
        if len(entries) >= settings.TRUSTED_PROXY_COUNT:
            address = entries[-settings.TRUSTED_PROXY_COUNT]
    return address or request.META.get("REMOTE_ADDR", "")


def _hashed(value: str) -> str:
    # Hashed so the cache never holds a raw address (or list key) next to what it was used for.
    return hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()[:32]


def over_budget(request: HttpRequest, scope: str) -> int:
    """Count this request; return seconds to wait when its list or its address is over budget, else 0.

    A window opens at the first request and lasts RATE_LIMIT_WINDOW_SECONDS. If the cache is down,
    the limit fails open (logged): a patient checking a list matters more than the budget.
    """
    try:
        per_list = settings.RATE_LIMITS_PER_LIST.get(scope)
        key = _list_key(settings.RATE_LIMIT_LIST_KEY)(request) if per_list else None
        if key is not None:
            wait = _count(f"ratelimit:list:{scope}:{_hashed(key)}", per_list)
            if wait:
                return wait
        return _count(f"ratelimit:{scope}:{_hashed(client_address(request))}", settings.RATE_LIMITS[scope])
    except Exception:  # any cache backend's connection error
        logger.warning("Rate limit cache unavailable; request allowed (scope %s).", scope, exc_info=True)
        return 0


@functools.cache
def _list_key(path: str) -> Callable[[HttpRequest], str | None]:
    """The function that finds a request's list key (an app's concern, named in settings)."""
    return import_string(path)


def _count(key: str, limit: int) -> int:
    # One incr in the common case: the window's start is read only when a request is over budget.
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    count_key, start_key = f"{key}:count", f"{key}:start"
    try:
        count = cache.incr(count_key)
    except ValueError:  # no window open: this request opens one, or counts in one opened just now
        if cache.add(count_key, 1, timeout=window):
            cache.set(start_key, time.time(), timeout=window)
            return 0
        try:
            count = cache.incr(count_key)
        except ValueError:
            return 0
    if count <= limit:
        return 0
    now = time.time()
    started = cache.get(start_key)
    if started is None:
        # The window is over but its count outlived it (Redis makes a key that never expires when an
        # incr meets the key's expiry): a new window starts, as it would have.
        cache.set(count_key, 1, timeout=window)
        cache.set(start_key, now, timeout=window)
        return 0
    return max(1, math.ceil(window - (now - started)))


def rate_limited(scope: str) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            retry_after = over_budget(request, scope)
            if retry_after:
                from core.views import too_many_requests

                return too_many_requests(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
