"""Headers on every response, and a calm 503 when the database is away."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.views import database_fault, service_unavailable


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

    One raised outside a view (the staff session saved after the response, on a full disk or with
    the database gone) reaches Django's error handlers instead, which give the same 503
    (config.views.server_error and bad_request). Django drops a broken connection at the end of the
    request (CONN_HEALTH_CHECKS), so the app recovers by itself when the database comes back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        fault = database_fault(exception)
        return service_unavailable(request, fault) if fault is not None else None
