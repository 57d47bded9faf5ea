"""htmx requests: which template answers them, and the search views' shared handling."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods


def wants_partial(request: HttpRequest) -> bool:
    """htmx asked for a piece of the page. A boosted link and a history restore (the browser's
    back button after the page left htmx's cache) swap the whole body, so they get the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """The whole page, or only its named partial when htmx asks for a piece (`template#partial`)."""
    return f"{template}#{partial}" if wants_partial(request) else template


def typed_query(request: HttpRequest) -> str:
    """What the person typed: posted by the live search (so it is in no web address or server log),
    or in the query string of the plain GET form that works without JavaScript."""
    source = request.POST if request.method == "POST" else request.GET
    return source.get("q", "")


def search_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A search page: GET (the no-JavaScript form and links) or POST (the live search). A posted
    answer is about what someone typed, so no cache keeps it."""

    @require_http_methods(["GET", "HEAD", "POST"])
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if request.method == "POST":
            patch_cache_control(response, no_store=True, private=True)
        return response

    return wrapper
