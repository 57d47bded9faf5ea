"""Headers on every response, and a calm 503 when the database is away."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from config.views import service_unavailable

RETRY_AFTER_SECONDS = 30

logger = logging.getLogger(__name__)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class DatabaseUnavailableMiddleware:
    """Any database failure in a view becomes a friendly 503 with Retry-After, never a stack trace.

    Django drops a broken connection at the end of the request (CONN_HEALTH_CHECKS), so the app
    recovers by itself when the database comes back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            # The driver's message ("database is locked", "could not connect") says which fault it
            # was; it carries no query parameters, so no health data reaches the log.
            logger.warning("Database unavailable: %s: %s", type(exception).__name__, str(exception)[:200])
            response = service_unavailable(request)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return None
