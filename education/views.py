from __future__ import annotations

from itertools import groupby

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from core import content_version
from core.htmx import search_view, template_for, typed_query
from education.models import Article
from interactions import search as search_service
from interactions.models import Medication, Status

MAX_FILTER_LENGTH = 100


@search_view
@vary_on_headers("HX-Request")
def article_list(request: HttpRequest) -> HttpResponse:
    query = typed_query(request).replace("\x00", "").strip()[:MAX_FILTER_LENGTH]
    articles = Article.objects.published().only("title", "slug", "topic", "summary")
    if query:
        matches = Q(title__icontains=query) | Q(summary__icontains=query) | Q(body__icontains=query)
        medication = _medication_for(query)
        if medication is not None:
            # "zoloft" finds the guides about sertraline and its classes, through the same search service;
            # "suboxone" also finds those about what is inside it (buprenorphine, naloxone).
            matches |= (
                Q(medications=medication)
                | Q(medications__products=medication)
                | Q(drug_classes__in=medication.classes.all())
            )
        articles = articles.filter(matches).distinct()
    topics = [
        (topic, list(items)) for topic, items in groupby(articles.order_by("topic", "title"), key=lambda a: a.topic)
    ]
    context = {"query": query, "topics": topics, "count": sum(len(items) for _, items in topics)}
    return render(request, template_for(request, "education/article_list.html", "article-results"), context)


def _medication_for(query: str) -> Medication | None:
    try:
        match = search_service.best_match(query)
    except search_service.SearchInputError:
        return None
    if match is None or (match.tier == search_service.TIER_FUZZY and len(query) < 5):
        return None
    return Medication.objects.filter(slug=match.slug, curated=True).first()


ARTICLE_PAGE = "education/article_detail.html"
# Off only in tests that compare the kept page with one rendered afresh.
CACHE_PAGES = True
# Where the page's CSRF token goes: a raw "<" never comes out of an escaped value.
_CSRF_SLOT = "<medwise-slot:csrf>"


@require_safe
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A guide. For readers who are not staff, a published guide's page is rendered once per content
    version and language, and each request fills in only its own CSRF token."""
    if CACHE_PAGES and not request.user.is_staff:
        page = content_version.cached(
            f"article-page:{slug}:{get_language()}", content_version.current(), lambda: _public_page(request, slug)
        )
        if page is not None:
            return HttpResponse(page.replace(_CSRF_SLOT, get_token(request)))
    article = _article(slug)
    if article is None or (article.status != Status.PUBLISHED and not request.user.is_staff):
        raise Http404
    return render(request, ARTICLE_PAGE, _article_context(article))


def _public_page(request: HttpRequest, slug: str) -> str | None:
    """The page of a published guide with a slot for the CSRF token; None for anything else."""
    article = _article(slug)
    if article is None or article.status != Status.PUBLISHED:
        return None
    context = {**_article_context(article), "csrf_token": mark_safe(_CSRF_SLOT)}  # noqa: S308 - a fixed slot
    return str(render_to_string(ARTICLE_PAGE, context, request=request))


def _article(slug: str) -> Article | None:
    return (
        Article.objects.select_related("reviewed_by")
        .prefetch_related("references", "medications", "drug_classes")
        .filter(slug=slug)
        .first()
    )


def _article_context(article: Article) -> dict:
    interactions = article.interactions.published().select_related(
        "medication_a", "medication_b", "drug_class_a", "drug_class_b", "regimen_a", "regimen_b"
    )
    return {
        "article": article,
        "is_draft": article.status != Status.PUBLISHED,
        "interactions": sorted(interactions, key=lambda rule: (-rule.severity_rank, rule.title)),
    }
