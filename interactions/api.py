"""The JSON API, /api/v1/: its views, and plain functions from domain results to its JSON shapes.

A check runs a fixed number of queries whatever the list's size: every name is resolved against one
search index, and the check reads the content version once for both. Its answer is encoded from
pieces kept per finding and content version (checked_json()), to the same bytes as the plain
json.dumps of checked_payload().
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from core import content_version
from core.ratelimit import rate_limited
from interactions import openapi
from interactions import search as search_service
from interactions.checker import (
    CheckEntry,
    CheckResult,
    Finding,
    PairResult,
    ReviewedContent,
    SafetyMessage,
    check,
    reviewed_content,
)


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
def api_check(request: HttpRequest) -> HttpResponse:
    try:
        values = parse_check_body(request.body) if request.method == "POST" else request.GET.getlist("med")
        queries = parse_check_request(values)
    except ApiInputError as exc:
        response = _error(str(exc))
    else:
        # The same bytes JsonResponse(check_payload(queries)) would send, built from kept pieces.
        response = HttpResponse(check_json(queries), content_type="application/json")
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


@dataclass(frozen=True)
class CheckedList:
    """A check of names as typed: the parts of its answer that are the list's own, and the check."""

    medications: list[dict]
    unresolved: list[dict]
    result: CheckResult
    content: ReviewedContent


def check_list(queries: list[str]) -> CheckedList:
    """The check of names as typed (already cleaned): one index for all of them, so one query in all
    once the medicines are known to this process."""
    # One read of the content version for both: the names may come from an index still being rebuilt
    # for it, but the rules are always the current ones.
    version = content_version.current()
    names = search_service.get_index(version=version)
    matches = [search_service.best_match(q, index=names) for q in queries]
    entries = [CheckEntry(m.slug, m.regimen) if m else CheckEntry("") for m in matches]
    content = reviewed_content(version=version)
    result = check(entries, content=content)
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
    return CheckedList(medications, unresolved, result, content)


def check_payload(queries: list[str]) -> dict:
    """The answer to a check, as the dict /api/v1/check encodes (see check_json() for the encoding)."""
    return checked_payload(check_list(queries))


def checked_payload(checked: CheckedList) -> dict:
    result = checked.result
    return {
        "medications": checked.medications,
        "unresolved": checked.unresolved,
        "findings": [finding_payload(f) for f in result.findings],
        "pairs": [pair_payload(p) for p in result.pairs],
        "safety_messages": [message_payload(m) for m in result.safety_messages],
    }


def check_json(queries: list[str]) -> str:
    """The answer to a check, encoded: exactly json.dumps(check_payload(queries), cls=DjangoJSONEncoder)."""
    return checked_json(check_list(queries))


def checked_json(checked: CheckedList) -> str:
    """checked_payload() encoded, to the byte, from pieces encoded once per content version.

    A finding's JSON is the same for every list that has the finding, except for its `entries` (where
    it sits on the list): it is encoded once with a slot there, kept with the reviewed content it came
    from (so a publish drops it), and each answer fills the slot. The key is the finding's content
    (content_key: every field but `entries`, and its rule), never the list. Safety messages are kept
    the same way; a pair's status, verdict and unreviewed ingredients are encoded once per answer.
    """
    result, store = checked.result, checked.content.rendered
    # Article URLs are reversed into the pieces: they go with the URLconf and script prefix too.
    where = (get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    out = [f'{{"medications": {_encode(checked.medications)}, "unresolved": {_encode(checked.unresolved)}, ']
    out.append('"findings": [')
    sep = ""
    for finding in result.findings:
        key = ("api-finding", where, finding.content_key)
        head, tail = store(key, lambda finding=finding: _slotted(finding_payload(finding)))
        out += (sep, head, _entries(finding.entries), tail)
        sep = ", "
    out.append('], "pairs": [')
    sep, tails = "", {}
    for pair in result.pairs:
        verdict = (pair.status, pair.severity, pair.unreviewed)
        slotted = tails.get(verdict)
        if slotted is None:
            slotted = tails[verdict] = _slotted(pair_payload(pair))
        out += (sep, slotted[0], _entries(pair.entries), slotted[1])
        sep = ", "
    out.append('], "safety_messages": [')
    sep = ""
    for message in result.safety_messages:
        key = ("api-message", message.key, message.title, message.text, message.more)
        head, tail = store(key, lambda message=message: _slotted(message_payload(message)))
        out += (sep, head, _entries(message.entries), tail)
        sep = ", "
    out.append("]}")
    return "".join(out)


@lru_cache(maxsize=4096)  # positions on a list, nothing else: the pairs of any list fit many times over
def _entries(entries: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, entries))}]"


# JsonResponse's encoding: json.dumps(data, cls=DjangoJSONEncoder), with its default separators.
_encode = DjangoJSONEncoder().encode


def _slotted(payload: dict, slot: str = "entries") -> tuple[str, str]:
    """A payload's JSON cut where its `slot` value goes: head + the slot's JSON + tail is its encoding."""
    names = list(payload)
    at = names.index(slot)
    before = {name: payload[name] for name in names[:at]}
    after = {name: payload[name] for name in names[at + 1 :]}
    head = f"{_encode(before)[:-1]}, " if before else "{"
    tail = f", {_encode(after)[1:]}" if after else "}"
    return f'{head}"{slot}": ', tail


def pair_payload(pair: PairResult) -> dict:
    return {
        "entries": list(pair.entries),
        "status": pair.status,
        "severity": pair.severity,
        "not_reviewed": [list(i) for i in pair.unreviewed],
    }


def message_payload(message: SafetyMessage) -> dict:
    return {
        "key": message.key,
        "title": message.title,
        "text": message.text,
        "more": message.more,
        "entries": list(message.entries),
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
