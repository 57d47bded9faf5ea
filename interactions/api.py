"""The JSON API, /api/v1/: its views, and plain functions from domain results to its JSON shapes.

A check runs a fixed number of queries whatever the list's size: every name is resolved against one
search index, and the check reads the content version once for both.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from core import content_version
from core.ratelimit import rate_limited
from interactions import openapi
from interactions import search as search_service
from interactions.checker import CheckEntry, Finding, check, reviewed_content


class ApiInputError(ValueError):
    pass


def _error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


# --- views ------------------------------------------------------------------------------------------


@require_safe
@rate_limited("api")
def api_medications(request: HttpRequest) -> JsonResponse:
    try:
        text = search_service.clean_query(request.GET.get("q"))
    except search_service.SearchInputError as exc:
        return _error(str(exc))
    raw_limit = request.GET.get("limit", str(search_service.DEFAULT_LIMIT))
    if not re.fullmatch(r"[0-9]{1,3}", raw_limit) or not 1 <= int(raw_limit) <= settings.SEARCH_MAX_LIMIT:
        return _error(_("limit must be a whole number from 1 to %(max)d.") % {"max": settings.SEARCH_MAX_LIMIT})
    return JsonResponse(medications_payload(text, search_service.search(text, limit=int(raw_limit))))


# POST needs no CSRF token: this endpoint reads no cookie and no session, so a forged cross-site
# request gains nothing a direct request would not; and the list stays out of URLs and logs.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("api")
def api_check(request: HttpRequest) -> JsonResponse:
    try:
        values = parse_check_body(request.body) if request.method == "POST" else request.GET.getlist("med")
        queries = parse_check_request(values)
    except ApiInputError as exc:
        response = _error(str(exc))
    else:
        response = JsonResponse(check_payload(queries))
    # A list and its findings are health information: never stored by a browser or a proxy.
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_safe
def api_openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi.document())


# --- input ------------------------------------------------------------------------------------------


def parse_check_request(values: list[str]) -> list[str]:
    if not values:
        raise ApiInputError(_("Give at least one medicine, as ?med=NAME&med=NAME."))
    if len(values) > settings.MEDLIST_MAX_ENTRIES:
        raise ApiInputError(_("A list can have at most %(max)d medicines.") % {"max": settings.MEDLIST_MAX_ENTRIES})
    cleaned = []
    for value in values:
        try:
            cleaned.append(search_service.clean_query(value))
        except search_service.SearchInputError as exc:
            raise ApiInputError(str(exc)) from exc
    return cleaned


def parse_check_body(body: bytes) -> list[str]:
    """The POST form of a check: a JSON object {"med": ["name", ...]}, the same names the GET takes."""
    if len(body) > settings.API_MAX_BODY_BYTES:
        raise ApiInputError(_("The request is too large."))
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiInputError(_('Send JSON like {"med": ["sertraline", "tramadol"]}.')) from exc
    values = data.get("med") if isinstance(data, dict) else None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiInputError(_('"med" must be a list of medicine names, like {"med": ["sertraline", "tramadol"]}.'))
    return values


# --- answers ----------------------------------------------------------------------------------------


def medications_payload(text: str, results: list[search_service.SearchResult]) -> dict:
    return {
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


def check_payload(queries: list[str]) -> dict:
    """The check of names as typed (already cleaned): one index for all of them, so one query in all
    once the medicines are known to this process."""
    # One read of the content version for both: the names may come from an index still being rebuilt
    # for it, but the rules are always the current ones.
    version = content_version.current()
    names = search_service.get_index(version=version)
    matches = [search_service.best_match(q, index=names) for q in queries]
    entries = [CheckEntry(m.slug, m.regimen) if m else CheckEntry("") for m in matches]
    result = check(entries, content=reviewed_content(version=version))
    resolved = {e.index: e for e in result.entries}
    medications, unresolved = [], []
    for index, query in enumerate(queries):
        entry = resolved.get(index)
        if entry is None:
            unresolved.append({"query": query, "suggestions": search_service.suggest(query, index=names)})
            continue
        medications.append(
            {
                "query": query,
                "slug": entry.medication.slug,
                "name": entry.medication.name,
                "regimen": entry.regimen.slug if entry.regimen else None,
                "covered": entry.covered,
                "ingredients": [m.slug for m in (entry.ingredients or (entry.medication,))],
            }
        )
    return {
        "medications": medications,
        "unresolved": unresolved,
        "findings": [finding_payload(f) for f in result.findings],
        "pairs": [
            {
                "entries": list(p.entries),
                "status": p.status,
                "severity": p.severity,
                "not_reviewed": [list(i) for i in p.unreviewed],
            }
            for p in result.pairs
        ],
        "safety_messages": [
            {"key": m.key, "title": m.title, "text": m.text, "more": m.more, "entries": list(m.entries)}
            for m in result.safety_messages
        ],
    }


def finding_payload(finding: Finding) -> dict:
    timing = finding.timing
    return {
        "kind": finding.kind,
        "entries": list(finding.entries),
        "ingredients": list(finding.ingredients),
        "severity": finding.severity,
        "title": finding.title,
        "summary": finding.summary,
        "action": finding.action,
        "urgent_signs": list(finding.urgent_signs),
        "timing": (
            {"text": timing.text, "days": timing.days, "stop_first": timing.stop_first, "then_start": timing.then_start}
            if timing
            else None
        ),
        "evidence": finding.evidence,
        "by_mechanism": finding.by_mechanism,
        "dose_variants": [
            {"regimen": v.regimen, "severity": v.severity or None, "title": v.title} for v in finding.dose_variants
        ],
        "articles": [
            {"slug": a.slug, "title": a.title, "url": reverse("education:article", args=[a.slug])}
            for a in finding.articles
        ],
        "references": [{"citation": r.citation, "url": r.link} for r in finding.references],
    }
