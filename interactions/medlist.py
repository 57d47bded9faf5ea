"""A person's medication list, kept only on their device in an encrypted cookie.

Nothing about the list is stored on the server. The cookie is encrypted and authenticated
(Fernet: AES-128-CBC with HMAC-SHA256), so it cannot be read or changed without the server key,
lasts until the browser closes, and is dropped after MEDLIST_IDLE_SECONDS without use.

The idle timer runs from the cookie's issue time, which Fernet writes into the token. A page view
that leaves the list as it was does not issue the cookie again while it is younger than
refresh_seconds() (a minute, or a sixtieth of a shorter idle time), so the timer is exact to within
that interval: an unused list is dropped up to that much early, never late.

This module is the list and its encoding only: plain values in and out, no requests, responses or
queries. Reading the cookie from a request and writing it back is interactions/list_cookie.py.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _

PAYLOAD_VERSION = 1
LABEL_MAX_LENGTH = 60
# Browsers keep cookies up to 4096 bytes, name and attributes included: the value stays well under.
COOKIE_MAX_BYTES = 3800


def cookie_name() -> str:
    # The __Host- prefix needs Secure, which needs HTTPS: only outside development.
    return "medlist" if settings.DEBUG else "__Host-medlist"


def _fernet() -> Fernet:
    return _fernet_for(settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _fernet_for(secret: str) -> Fernet:
    # Keyed on the secret itself, so a changed SECRET_KEY (a test's override) never meets an old key.
    key = hashlib.sha256(b"medwise.medlist.v1:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def refresh_seconds() -> float:
    """How old a list's cookie may grow before a view that leaves the list unchanged issues it again."""
    return min(60.0, settings.MEDLIST_IDLE_SECONDS / 60)


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
    # What the cookie this list was read from held, and when that cookie was issued; None for a new list.
    read: _Read | None = field(default=None, compare=False, repr=False)

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

    def is_fresh(self) -> bool:
        """Still as it was read, from a cookie issued less than refresh_seconds() ago: writing it again
        would only restart the idle timer a little later."""
        if self.read is None or self.read.state != (tuple(self.entries), self.notice, self.key):
            return False
        return 0 <= time.time() - self.read.issued_at < refresh_seconds()


@dataclass(frozen=True)
class _Read:
    issued_at: int
    state: tuple  # (entries, notice, key) as saved; the key is None when the cookie had none


def encode(medlist: MedList) -> str:
    payload = {
        "v": PAYLOAD_VERSION,
        "e": [[e.slug, e.regimen or "", e.label] for e in medlist.entries],
        "n": medlist.notice,
        "i": medlist.key,
    }
    return _fernet().encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode(raw: str) -> MedList:
    """The list in a cookie's value, as saved: decrypted and shape-checked, its medicines not yet
    looked up. Raises ValueError whose message is the notice for the person."""
    fernet, token = _fernet(), raw.encode()
    try:
        data = json.loads(fernet.decrypt(token, ttl=settings.MEDLIST_IDLE_SECONDS))
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
    saved_key = data.get("i")
    if not (isinstance(saved_key, str) and 0 < len(saved_key) <= 32):
        saved_key = None  # a list saved before lists had keys: it gets one, and is written again
    medentries = [MedEntry(e[0], e[1] or None, e[2] if len(e) == 3 else "") for e in entries]
    read = _Read(fernet.extract_timestamp(token), (tuple(medentries), notice, saved_key))
    return MedList(medentries, notice, saved_key or new_key(), read)
