"""A person's medication list, kept only on their device in an encrypted cookie.

Nothing about the list is stored on the server. The cookie is encrypted and authenticated
(Fernet: AES-128-CBC with HMAC-SHA256), so it cannot be read or changed without the server key,
lasts until the browser closes, and is dropped after MEDLIST_IDLE_SECONDS without use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.slugs import is_slug
from interactions.models import Medication, Regimen

PAYLOAD_VERSION = 1
LABEL_MAX_LENGTH = 60
# Browsers keep cookies up to 4096 bytes, name and attributes included: the value stays well under.
COOKIE_MAX_BYTES = 3800


def cookie_name() -> str:
    # The __Host- prefix needs Secure, which needs HTTPS: only outside development.
    return "medlist" if settings.DEBUG else "__Host-medlist"


def _fernet() -> Fernet:
    key = hashlib.sha256(b"medwise.medlist.v1:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class MedEntry:
    slug: str
    regimen: str | None = None
    # The brand the person added it by ("Vivitrol"), shown beside the generic name; empty otherwise.
    label: str = ""


def new_key() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class MedList:
    entries: list[MedEntry] = field(default_factory=list)
    notice: str = ""
    # A random name for this list, kept for its life: the rate limits give each list a budget of its
    # own (core/ratelimit.py). It says nothing about the medicines on it.
    key: str = field(default_factory=new_key)

    @property
    def is_full(self) -> bool:
        return len(self.entries) >= settings.MEDLIST_MAX_ENTRIES

    def slugs(self) -> list[str]:
        return [e.slug for e in self.entries]

    def add(self, slug: str, regimen: str | None = None, label: str = "") -> str:
        """Add a medication; returns 'added', 'duplicate' or 'full'. A duplicate add changes nothing."""
        if slug in self.slugs():
            return "duplicate"
        if self.is_full:
            return "full"
        self.entries.append(MedEntry(slug, regimen, label[:LABEL_MAX_LENGTH]))
        if len(encode(self)) > COOKIE_MAX_BYTES:
            # Browsers drop a cookie over about 4 kB: refuse the add rather than lose the list.
            self.entries.pop()
            return "too-big"
        return "added"

    def remove(self, slug: str) -> bool:
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.slug != slug]
        return len(self.entries) < before

    def set_regimen(self, slug: str, regimen: str | None, keep_label: Callable[[str], bool] = bool) -> bool:
        """Change an entry's dose; its brand label stays only if `keep_label(label)` says it still fits."""
        for position, entry in enumerate(self.entries):
            if entry.slug == slug:
                label = entry.label if entry.label and keep_label(entry.label) else ""
                self.entries[position] = MedEntry(slug, regimen, label)
                return True
        return False


def encode(medlist: MedList) -> str:
    payload = {
        "v": PAYLOAD_VERSION,
        "e": [[e.slug, e.regimen or "", e.label] for e in medlist.entries],
        "n": medlist.notice,
        "i": medlist.key,
    }
    return _fernet().encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _parse(raw: str) -> tuple[list[MedEntry], str, str]:
    """Decrypt and shape-check; raises ValueError with a notice for the person."""
    try:
        data = json.loads(_fernet().decrypt(raw.encode(), ttl=settings.MEDLIST_IDLE_SECONDS))
    except InvalidToken:
        raise ValueError(_("Your saved list had expired or could not be read, so we started a new one.")) from None
    except (ValueError, UnicodeDecodeError):
        raise ValueError(_("Your saved list could not be read, so we started a new one.")) from None
    entries = data.get("e") if isinstance(data, dict) else None
    valid_shape = (
        isinstance(data, dict)
        and data.get("v") == PAYLOAD_VERSION
        and isinstance(entries, list)
        and len(entries) <= settings.MEDLIST_MAX_ENTRIES
        and all(
            isinstance(e, list)
            and len(e) in (2, 3)  # lists saved before brand labels have two parts
            and all(isinstance(part, str) and len(part) <= 200 for part in e)
            for e in entries
        )
    )
    if not valid_shape:
        raise ValueError(_("Your saved list was from an older version of this site, so we started a new one."))
    notice = data.get("n") if isinstance(data.get("n"), str) else ""
    key = data.get("i")
    if not (isinstance(key, str) and 0 < len(key) <= 32):
        key = new_key()  # a list saved before lists had keys
    return [MedEntry(e[0], e[1] or None, e[2] if len(e) == 3 else "") for e in entries], notice, key


def list_key(request: HttpRequest) -> str | None:
    """The key of the list in the request's cookie, if it holds a readable one (no queries)."""
    raw = request.COOKIES.get(cookie_name())
    if not raw:
        return None
    try:
        return _parse(raw)[2]
    except ValueError:
        return None


def load(request: HttpRequest) -> MedList:
    """The list from the request's cookie. Anything unreadable is dropped with a friendly notice."""
    raw = request.COOKIES.get(cookie_name())
    if not raw:
        return MedList()
    try:
        entries, notice, key = _parse(raw)
    except ValueError as exc:
        return MedList(notice=str(exc))
    return _drop_unknown(entries, notice, key)


def _drop_unknown(entries: list[MedEntry], notice: str, key: str) -> MedList:
    slugs = {e.slug for e in entries if is_slug(e.slug)}
    if not slugs:
        if entries:
            notice = _("Some medicines on your saved list are no longer in our catalog and were removed.")
        return MedList(notice=notice, key=key)
    known = set(Medication.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    regimens = {
        (med_slug, slug)
        for med_slug, slug in Regimen.objects.filter(medication__slug__in=known).values_list("medication__slug", "slug")
    }
    kept, seen = [], set()
    for entry in entries:
        if entry.slug not in known or entry.slug in seen:
            continue
        seen.add(entry.slug)
        regimen = entry.regimen if (entry.slug, entry.regimen) in regimens else None
        kept.append(MedEntry(entry.slug, regimen, entry.label))
    if len(kept) < len(entries):
        notice = _("Some medicines on your saved list are no longer in our catalog and were removed.")
    return MedList(entries=kept, notice=notice, key=key)


def save(response: HttpResponse, medlist: MedList) -> None:
    """Write the list back (refreshing the idle timer), or delete the cookie when it is empty."""
    if not medlist.entries and not medlist.notice:
        clear(response)
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
