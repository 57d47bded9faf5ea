"""The check page: a person's list and what it means. Each action works as a plain form POST
followed by a redirect, and as an htmx request that returns the changed regions in one response."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from core.htmx import wants_partial
from core.ratelimit import rate_limited
from core.slugs import is_slug
from interactions import list_cookie
from interactions import medlist as medlist_store
from interactions import search as search_service
from interactions.checker import ReviewedContent, covered_count, reviewed_content
from interactions.models import Medication, MedicationName, Regimen, normalize_name
from interactions.report import build_report

TEMPLATE = "interactions/check.html"
UNSURE = "unsure"


def _private(response: HttpResponse) -> HttpResponse:
    """Pages that show a list must never be cached, by the browser or anything in between."""
    add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
    patch_vary_headers(response, ["HX-Request", "Cookie"])
    return response


def _context(medlist: medlist_store.MedList, message: str = "", *, content: ReviewedContent | None = None) -> dict:
    report = build_report(medlist, content=content)
    return {
        "report": report,
        "notice": message or medlist.notice,
        "full": medlist.is_full,
        "UNSURE": UNSURE,
        "oob": False,  # the findings' out-of-band copy sets it (a name missing from a context costs an exception)
        "COVERED_COUNT": _covered_count(report.content),
    }


def _covered_count(content: ReviewedContent) -> int:
    """covered_count() once per content version and day: it looks at every covered medicine."""
    today = date.today()
    return content.remember(("covered-count", today), lambda: covered_count(today, content=content))


@require_safe
@rate_limited("check")
def check_page(request: HttpRequest) -> HttpResponse:
    return _show_list(request, TEMPLATE)


@require_safe
def print_view(request: HttpRequest) -> HttpResponse:
    return _show_list(request, "interactions/print.html", today=timezone.localdate())


def _show_list(request: HttpRequest, template: str, **extra) -> HttpResponse:
    """Render a page from the list; its notice is shown once, and the idle timer restarts."""
    content = reviewed_content()  # read once: the list's medicines and its check come from it
    medlist = list_cookie.load(request, content=content)
    response = render(request, template, {**_context(medlist, content=content), **extra})
    medlist.notice = ""
    list_cookie.save(response, medlist)
    return _private(response)


def _respond(request: HttpRequest, medlist: medlist_store.MedList, message: str) -> HttpResponse:
    if wants_partial(request):
        context = {**_context(medlist, message), "request": request}
        html = render_to_string(f"{TEMPLATE}#medlist", context, request=request) + render_to_string(
            f"{TEMPLATE}#findings-oob", context, request=request
        )
        response = HttpResponse(html)
        medlist.notice = ""
    else:
        medlist.notice = message
        response = redirect("interactions:check")
    list_cookie.save(response, medlist)
    return _private(response)


def _regimen_for(slug: str, value: str | None) -> str | None:
    if not value or value == UNSURE or not (is_slug(value) and is_slug(slug)):
        return None
    return value if Regimen.objects.filter(slug=value, medication__slug=slug).exists() else None


@sensitive_post_parameters("q")
@require_POST
@rate_limited("search")
def suggest(request: HttpRequest) -> HttpResponse:
    """Combobox options for the add form. A POST, so what a person types never appears in a URL."""
    query = request.POST.get("q", "")
    suggestions, message, did_you_mean = [], "", []
    if query.strip():
        try:
            suggestions = search_service.search(query, limit=8)
        except search_service.SearchInputError as exc:
            message = str(exc)
        if not suggestions and not message:
            # The guesses come as buttons here, so the message does not name them too.
            message = _not_found_message(query, name_guesses=False)
            did_you_mean = search_service.suggestions(query)
    response = render(
        request,
        "interactions/check_suggest.html",
        {"suggestions": suggestions, "suggest_message": message, "did_you_mean": did_you_mean},
    )
    return _private(response)


@sensitive_post_parameters("q", "pick", "slug", "regimen")
@require_POST
@rate_limited("edit")
def add(request: HttpRequest) -> HttpResponse:
    medlist = list_cookie.load(request)
    slug, _sep, picked = request.POST.get("pick", "").partition(":")
    picked_regimen, _sep, label = picked.partition(":")
    slug = slug.strip() or request.POST.get("slug", "").strip()
    regimen = picked_regimen or request.POST.get("regimen")
    if slug:
        medication = Medication.objects.filter(slug=slug).only("slug", "name").first() if is_slug(slug) else None
        if medication is None:
            return _respond(request, medlist, _("We could not find that medicine. Try searching for it by name."))
    else:
        try:
            match = search_service.best_match(request.POST.get("q", ""))
        except search_service.SearchInputError as exc:
            return _respond(request, medlist, str(exc))
        if match is None:
            return _respond(request, medlist, _not_found_message(request.POST.get("q", "")))
        medication = Medication(slug=match.slug, name=match.name)
        regimen = regimen or match.regimen
        label = match.matched_name if match.is_brand else ""
    label = _known_brand(medication.slug, label)
    outcome = medlist.add(medication.slug, _regimen_for(medication.slug, regimen), label)
    messages = {
        "added": _("Added %(name)s."),
        "duplicate": _("%(name)s is already on your list."),
        "full": _("Your list is full. You can check up to %(max)d medicines at a time. Remove one to add another."),
        "too-big": _(
            "We could not add %(name)s: your list has no more room on this device. Remove one to add another."
        ),
    }
    return _respond(
        request, medlist, messages[outcome] % {"name": medication.name, "max": settings.MEDLIST_MAX_ENTRIES}
    )


def _known_brand(slug: str, label: str) -> str:
    """A brand label is kept only when it really is a brand name of that medicine (never free text)."""
    if not label or not is_slug(slug):
        return ""
    brand = (
        MedicationName.objects.filter(
            medication__slug=slug, normalized=normalize_name(label), is_brand=True, is_misspelling=False
        )
        .values_list("name", flat=True)
        .first()
    )
    return brand or ""


def _brand_fits(slug: str, label: str, regimen: str | None) -> bool:
    """A brand that means one dose form (Vivitrol: the shot) no longer names the entry at another dose."""
    implied = set(
        Regimen.objects.filter(medication__slug=slug, implied_by_brands__normalized=normalize_name(label)).values_list(
            "slug", flat=True
        )
    )
    return not implied or regimen in implied


def _not_found_message(query: str, *, name_guesses: bool = True) -> str:
    text = query.strip()[:100]
    suggestions = search_service.suggest(text) if text and name_guesses else []
    message = _("We could not find a medicine called “%(query)s”. Check the spelling, or ask your pharmacist.") % {
        "query": text
    }
    if suggestions:
        message += " " + _("Did you mean: %(names)s?") % {"names": ", ".join(suggestions)}
    return message


@sensitive_post_parameters("slug")
@require_POST
@rate_limited("edit")
def remove(request: HttpRequest) -> HttpResponse:
    medlist = list_cookie.load(request)
    slug = request.POST.get("slug", "")
    if not is_slug(slug):
        return _respond(request, medlist, _("That medicine was not on your list."))
    name = Medication.objects.filter(slug=slug).values_list("name", flat=True).first() or slug
    removed = medlist.remove(slug)
    message = _("Removed %(name)s.") % {"name": name} if removed else _("That medicine was not on your list.")
    return _respond(request, medlist, message)


@sensitive_post_parameters("slug", "regimen")
@require_POST
@rate_limited("edit")
def change_dose(request: HttpRequest) -> HttpResponse:
    medlist = list_cookie.load(request)
    slug = request.POST.get("slug", "")
    regimen = _regimen_for(slug, request.POST.get("regimen"))
    changed = medlist.set_regimen(slug, regimen, keep_label=lambda label: _brand_fits(slug, label, regimen))
    message = (
        _("Dose updated. The results below now match it.") if changed else _("That medicine was not on your list.")
    )
    return _respond(request, medlist, message)


@require_POST
def clear(request: HttpRequest) -> HttpResponse:
    # A full page load either way. Only the list cookie is deleted, with the browser's cached copies of
    # pages (Clear-Site-Data "cache"): "cookies" would also sign staff out on a shared computer.
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
    else:
        response = redirect("interactions:check")
    list_cookie.clear(response)
    response["Clear-Site-Data"] = '"cache"'
    return _private(response)
