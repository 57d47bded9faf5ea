"""Per-client request budgets kept in Django's cache (local memory, or Redis when CACHE_URL is set)."""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def client_address(request: HttpRequest) -> str:
    """The client's address: CLIENT_IP_HEADER's first entry behind a trusted proxy, else the socket's."""
    address = ""
    if settings.CLIENT_IP_HEADER:
        address = request.META.get(settings.CLIENT_IP_HEADER, "").split(",")[0].strip()
    return address or request.META.get("REMOTE_ADDR", "")


def client_id(request: HttpRequest) -> str:
    address = client_address(request)
    # Hashed so the cache never holds a raw address next to what it was used for.
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]


def over_budget(request: HttpRequest, scope: str) -> int:
    """Count this request; return seconds to wait when the client is over its budget, else 0.

    A window opens at a client's first request and lasts RATE_LIMIT_WINDOW_SECONDS.
    """
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    now = time.time()
    key = f"ratelimit:{scope}:{client_id(request)}"
    if cache.add(f"{key}:start", now, timeout=window):
        cache.set(f"{key}:count", 1, timeout=window)
        return 0
    try:
        count = cache.incr(f"{key}:count")
    except ValueError:  # the window closed between the two calls
        cache.set(f"{key}:count", 1, timeout=window)
        return 0
    if count <= settings.RATE_LIMITS[scope]:
        return 0
    started = cache.get(f"{key}:start", now)
    return max(1, math.ceil(window - (now - started)))


def rate_limited(scope: str) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            retry_after = over_budget(request, scope)
            if retry_after:
                from config.views import too_many_requests

                return too_many_requests(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
