"""JSON shapes for /api/v1/: plain functions from domain results to dicts."""

from __future__ import annotations

import json

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from interactions import search as search_service
from interactions.checker import CheckEntry, Finding, check


class ApiInputError(ValueError):
    pass


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


def check_payload(queries: list[str]) -> dict:
    matches = [search_service.best_match(q) for q in queries]
    entries = [CheckEntry(m.slug, m.regimen) if m else CheckEntry("") for m in matches]
    result = check(entries)
    resolved = {e.index: e for e in result.entries}
    medications, unresolved = [], []
    for index, query in enumerate(queries):
        entry = resolved.get(index)
        if entry is None:
            unresolved.append({"query": query, "suggestions": search_service.suggest(query)})
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
