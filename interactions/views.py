from __future__ import annotations

import re

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from config.htmx import template_for
from education.models import Article
from interactions import api, openapi
from interactions import search as search_service
from interactions.models import Medication
from interactions.ratelimit import rate_limited


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "interactions/home.html")


@require_safe
@rate_limited("search")
@vary_on_headers("HX-Request")
def medication_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    results: list[search_service.SearchResult] = []
    error = ""
    if query.strip():
        try:
            results = search_service.search(query, limit=10)
        except search_service.SearchInputError as exc:
            error = str(exc)
    context = {"query": query[: settings.SEARCH_MAX_QUERY_LENGTH], "results": results, "error": error}
    return render(request, template_for(request, "interactions/medication_search.html", "results"), context)


@require_safe
def medication_detail(request: HttpRequest, slug: str) -> HttpResponse:
    medication = get_object_or_404(
        Medication.objects.prefetch_related("classes__parent", "ingredients", "regimens", "names"), slug=slug
    )
    names = sorted(medication.names.all(), key=lambda n: (not n.is_brand, n.name))
    class_ids = [c.id for c in medication.classes.all()]
    articles = (
        Article.objects.published()
        .filter(Q(medications=medication) | Q(drug_classes__in=class_ids))
        .distinct()
        .only("slug", "title", "summary")
    )
    context = {
        "medication": medication,
        "articles": articles,
        "brands": [n.name for n in names if n.is_brand][:20],
        "other_names": [n.name for n in names if not n.is_brand and n.name != medication.name][:20],
    }
    return render(request, "interactions/medication_detail.html", context)


def _api_error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@require_safe
@rate_limited("api")
def api_medications(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q")
    try:
        text = search_service.clean_query(query)
    except search_service.SearchInputError as exc:
        return _api_error(str(exc))
    raw_limit = request.GET.get("limit", "10")
    if not re.fullmatch(r"[0-9]{1,3}", raw_limit) or not 1 <= int(raw_limit) <= settings.SEARCH_MAX_LIMIT:
        return _api_error(_("limit must be a whole number from 1 to %(max)d.") % {"max": settings.SEARCH_MAX_LIMIT})
    results = search_service.search(text, limit=int(raw_limit))
    return JsonResponse(
        {
            "query": text,
            "results": [
                {
                    "slug": r.slug,
                    "name": r.name,
                    "matched_name": r.matched_name,
                    "is_brand": r.is_brand,
                    "kind": r.kind,
                    "regimen": r.regimen,
                }
                for r in results
            ],
        }
    )


@require_safe
@rate_limited("api")
def api_check(request: HttpRequest) -> JsonResponse:
    try:
        queries = api.parse_check_request(request.GET.getlist("med"))
    except api.ApiInputError as exc:
        return _api_error(str(exc))
    return JsonResponse(api.check_payload(queries))


@require_safe
def api_openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi.document())
