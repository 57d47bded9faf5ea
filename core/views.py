"""Error pages in the site's style, with the emergency numbers, that never need the database."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

ERROR_PAGES = {
    400: (_("Something in that request was not right"), _("Please go back and try again.")),
    403: (_("That action was not allowed"), _("If you were filling in a form, reload the page and try again.")),
    404: (_("We could not find that page"), _("Check the address, or start again from the home page.")),
    429: (
        _("Too many requests"),
        _("You are going a little fast for us. Please wait a minute, then try again."),
    ),
    500: (_("Something went wrong on our side"), _("We are sorry. Please try again in a few minutes.")),
    503: (
        _("We are having trouble right now"),
        _("Part of our service is not available. Please try again in a few minutes."),
    ),
}


RETRY_AFTER_SECONDS = 30

logger = logging.getLogger(__name__)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_response(request: HttpRequest | None, status: int) -> HttpResponse:
    title, text = ERROR_PAGES[status]
    if request is not None and wants_json(request):
        return JsonResponse({"error": f"{title}. {text}"}, status=status)
    context = {
        "status": status,
        "title": title,
        "text": text,
        "EMERGENCY_NUMBER": settings.EMERGENCY_NUMBER,
        "CRISIS_LINE": settings.CRISIS_LINE,
        "POISON_CONTROL": settings.POISON_CONTROL,
    }
    # No RequestContext: an error page must render even when the database or a context processor fails.
    html = render_to_string("error.html", context)
    return HttpResponse(html, status=status)


def database_fault(exception: BaseException | None) -> BaseException | None:
    """The database error behind an exception, if any, following its chain: a session save that meets
    a full disk surfaces as SessionInterrupted (a 400), raised while handling the driver's error."""
    for _depth in range(10):  # a chain is short; never loop on a cycle
        if exception is None or isinstance(exception, OperationalError | InterfaceError):
            return exception
        exception = exception.__cause__ or exception.__context__
    return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    fault = database_fault(exception)
    if fault is not None:
        return service_unavailable(request, fault)
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its except block: a database error raised outside a view (the session
    # saved after the response, a middleware's query) is an outage too, not a bug.
    fault = database_fault(sys.exc_info()[1])
    if fault is not None:
        return service_unavailable(request, fault)
    return error_response(request, 500)


def service_unavailable(request: HttpRequest, fault: BaseException) -> HttpResponse:
    """The calm 503 for a database fault: Retry-After, and a log line that names the fault.

    The driver's message ("database is locked", "database or disk is full", "could not connect")
    carries no query parameters, so no health data reaches the log.
    """
    logger.warning("Database unavailable: %s: %s", type(fault).__name__, str(fault)[:200])
    response = error_response(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    if getattr(request, "htmx", False):
        # htmx swaps a 429 (see the htmx-config meta tag) into the page's notice, where it is seen and
        # announced, instead of Add silently doing nothing.
        title, _text = ERROR_PAGES[429]
        wait = ngettext(
            "Please wait %(n)d second, then try again.", "Please wait %(n)d seconds, then try again.", retry_after
        ) % {"n": retry_after}
        response = HttpResponse(format_html("<p><strong>{}.</strong> {}</p>", title, wait), status=429)
        response["HX-Retarget"] = "#rate-limit-notice"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = error_response(request, 429)
    response["Retry-After"] = str(retry_after)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(request, 403)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: the database and the shared cache, reported apart.

    503 without the database (nothing works). 200 with "degraded" when only the cache is down: pages
    still serve (rate limits fail open), but an operator should know.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")
            cursor.fetchone()
    except Exception:  # any failure means unhealthy
        return JsonResponse({"status": "unavailable", "database": False, "cache": _cache_ok()}, status=503)
    cache_ok = _cache_ok()
    return JsonResponse({"status": "ok" if cache_ok else "degraded", "database": True, "cache": cache_ok})


def _cache_ok() -> bool:
    from django.core.cache import cache

    try:
        cache.set("healthz", "1", timeout=5)
        return cache.get("healthz") == "1"
    except Exception:  # any backend's connection error
        return False
