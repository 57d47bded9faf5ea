"""The medication list's cookie: read from a request, looked up in the catalog, written to a response.

The list and its encryption are interactions/medlist.py, which knows nothing of HTTP or the database;
this is the glue the pages and the rate limiter use.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.slugs import is_slug
from interactions.checker import ReviewedContent, reviewed_content
from interactions.medlist import MedEntry, MedList, cookie_name, decode, encode


def list_key(request: HttpRequest) -> str | None:
    """The key of the list in the request's cookie, if it holds a readable one (no queries).

    The rate limiter's per-list budget reads it through settings.RATE_LIMIT_LIST_KEY.
    """
    saved = _saved(request)
    return saved.key if isinstance(saved, MedList) else None


def load(request: HttpRequest, *, content: ReviewedContent | None = None) -> MedList:
    """The list from the request's cookie. Anything unreadable is dropped with a friendly notice.

    Medicines are looked up in the checker's reviewed content (kept per content version and
    process), so a page that checks the list next passes the same content and reads it once."""
    saved = _saved(request)
    if saved is None:
        return MedList()
    if isinstance(saved, ValueError):
        return MedList(notice=str(saved))
    return _drop_unknown(saved, content or reviewed_content())


def _saved(request: HttpRequest) -> MedList | ValueError | None:
    """The list in the request's cookie as saved, or why it cannot be read; None without a cookie.

    Decrypted once a request (the rate limiter reads the key before the page reads the list) and
    never handed out to be changed: load() makes a new list from it.
    """
    raw = request.COOKIES.get(cookie_name())
    if not raw:
        return None
    memo = getattr(request, "_medlist_saved", None)
    if memo is None or memo[0] != raw:
        try:
            saved = decode(raw)
        except ValueError as exc:
            saved = exc
        memo = request._medlist_saved = (raw, saved)
    return memo[1]


def _drop_unknown(saved: MedList, content: ReviewedContent) -> MedList:
    """The saved list without medicines and doses the catalog no longer has."""
    entries, notice, key = saved.entries, saved.notice, saved.key
    slugs = {e.slug for e in entries if is_slug(e.slug)}
    if not slugs:
        if entries:
            notice = _("Some medicines on your saved list are no longer in our catalog and were removed.")
        return MedList(notice=notice, key=key, read=saved.read)
    medications = content.medications(slugs)
    known = set(medications)
    regimens = {(slug, regimen.slug) for slug, med in medications.items() for regimen in med.regimens.all()}
    kept, seen = [], set()
    for entry in entries:
        if entry.slug not in known or entry.slug in seen:
            continue
        seen.add(entry.slug)
        regimen = entry.regimen if (entry.slug, entry.regimen) in regimens else None
        kept.append(MedEntry(entry.slug, regimen, entry.label))
    if len(kept) < len(entries):
        notice = _("Some medicines on your saved list are no longer in our catalog and were removed.")
    return MedList(entries=kept, notice=notice, key=key, read=saved.read)


def save(response: HttpResponse, medlist: MedList) -> None:
    """Write the list back, restarting its idle timer, or delete the cookie when it is empty.

    A list the request left as it was (no notice cleared, nothing dropped) is not written while its
    cookie is younger than medlist.refresh_seconds(): the idle timer is exact to within that.
    """
    if not medlist.entries and not medlist.notice:
        clear(response)
        return
    if medlist.is_fresh():
        return
    response.set_cookie(
        cookie_name(),
        encode(medlist),
        max_age=None,  # a browser-session cookie: gone when the browser closes
        path="/",
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )


def clear(response: HttpResponse) -> None:
    response.delete_cookie(cookie_name(), path="/", samesite="Lax")
