"""Headers on every response, and a calm 503 when the database is away."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

from core.views import database_fault, service_unavailable


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
    (core.views.server_error and bad_request). Django drops a broken connection at the end of the
    request (CONN_HEALTH_CHECKS), so the app recovers by itself when the database comes back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        fault = database_fault(exception)
        return service_unavailable(request, fault) if fault is not None else None


class StaffSessionLifetimeMiddleware:
    """A staff session ends STAFF_SESSION_MAX_SECONDS after sign-in, however active (the idle timeout,
    SESSION_COOKIE_AGE, ends it sooner when unused): a session taken from an unlocked screen or a
    shared computer is not good for ever.

    The clock starts when a request signs someone in (login() gives the session a new key). Only a
    request that brings a session cookie touches the session, so public pages stay session-free.
    """

    SIGNED_IN_AT = "_staff_signed_in_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        had_cookie = settings.SESSION_COOKIE_NAME in request.COOKIES
        key_before = request.session.session_key
        if had_cookie and request.user.is_authenticated:
            signed_in_at = request.session.setdefault(self.SIGNED_IN_AT, time.time())
            if time.time() - signed_in_at >= settings.STAFF_SESSION_MAX_SECONDS:
                logout(request)  # deletes the session on the server; admin pages now ask for a sign-in
                hours = settings.STAFF_SESSION_MAX_SECONDS // 3600
                messages.info(
                    request,
                    ngettext(
                        "For safety, a staff session lasts at most %(n)d hour. Please sign in again.",
                        "For safety, a staff session lasts at most %(n)d hours. Please sign in again.",
                        hours,
                    )
                    % {"n": hours},
                )
        response = self.get_response(request)
        if request.session.session_key != key_before and request.user.is_authenticated:
            request.session[self.SIGNED_IN_AT] = time.time()  # signed in just now
        return response
