from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from core.htmx import search_view, template_for, typed_query
from core.ratelimit import rate_limited
from education.models import Article
from interactions import search as search_service
from interactions.models import Medication


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "interactions/home.html")


@search_view
@rate_limited("search")
@vary_on_headers("HX-Request")
def medication_search(request: HttpRequest) -> HttpResponse:
    query = typed_query(request)
    results: list[search_service.SearchResult] = []
    error = ""
    if query.strip():
        try:
            results = search_service.search(query, limit=10)
        except search_service.SearchInputError as exc:
            error = str(exc)
    did_you_mean = search_service.suggestions(query) if query.strip() and not results and not error else []
    context = {
        "query": query[: settings.SEARCH_MAX_QUERY_LENGTH],
        "results": results,
        "error": error,
        "did_you_mean": did_you_mean,
    }
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
    ingredients = list(medication.ingredients.all())
    covered_through = [i.name for i in ingredients] if ingredients and all(i.is_covered() for i in ingredients) else []
    context = {
        "medication": medication,
        "articles": articles,
        "covered": medication.is_covered() and not ingredients,
        "covered_through": covered_through,
        "brands": [n.name for n in names if n.is_brand and not n.is_misspelling][:20],
        "other_names": [n.name for n in names if not n.is_brand and not n.is_misspelling and n.name != medication.name][
            :20
        ],
    }
    return render(request, "interactions/medication_detail.html", context)


@require_safe
def covered_medications(request: HttpRequest) -> HttpResponse:
    """Every medicine our reviewed content covers: the honest scope of the checker."""
    medications = [m for m in Medication.objects.filter(interactions_reviewed=True).order_by("name") if m.is_covered()]
    by_kind: dict[str, list[Medication]] = {}
    for medication in medications:
        by_kind.setdefault(medication.get_kind_display(), []).append(medication)
    return render(request, "interactions/covered.html", {"by_kind": by_kind, "count": len(medications)})
