"""Typo-tolerant medication search: one service for the pages, the API and the list builder.

All names live in an in-memory index built once (five queries) and kept per content version, so a
search runs one query (the version) and never waits for a rebuild: after a change the new index is
built in a child process, read back by a background thread and swapped in when ready. A search is
cheap in every case: a short or common prefix is answered from a table built with the index, and the
typo pass compares only the names that share enough letter pairs with what was typed, and runs only
when the exact, prefix and word matches leave room on the page.

Under gunicorn with preload_app the index is built in the master before the workers fork
(config/gunicorn.conf.py), so they share it; its names are kept in flat strings and arrays, whose
pages stay shared. After a publish the workers keep it shared: the first worker to find its index out
of date asks the master, once for that version, to reload (a marker file, then SIGHUP). The master
builds the new index in a child process and reads it back, and gunicorn forks a fresh set of workers
that share it, while the old ones finish their requests on the previous index. A worker that the
master forked after answering, and that still finds its index out of date (the master's build
failed), rebuilds its own in the background as above, so the index never stays stale. Without a
preloading master every process rebuilds its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import accumulate, chain, compress, repeat
from operator import add, ge, itemgetter
from pathlib import Path

from django.conf import settings
from django.db import connections
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from core import content_version
from interactions.models import Medication, MedicationName, Regimen, mid_sentence, normalize_name

_STRENGTH = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:mg|milligrams?)\b", re.IGNORECASE)
# A number standing alone ("naltrexone 50", "vivitrol 380"), or a strength pair ("5/325"), with an
# optional unit: read as milligrams when no "mg" is written. Not a digit inside a name ("5-HTP").
_BARE_STRENGTH = re.compile(
    r"(?<![\w-])(\d+(?:[.,]\d+)?)(?:\s*[/-]\s*\d+(?:[.,]\d+)?)*\s*(?:mg|mcg|mcg/hr|ml|%|milligrams?)?(?![\w-])",
    re.IGNORECASE,
)
_NOISE = re.compile(r"[^\w\s'./+-]", re.UNICODE)
_PARENTHESES = re.compile(r"\s*\(.*\)\s*$")
# Words on a bottle that say the form, salt or release, not which medicine it is.
LABEL_WORDS = frozenset(
    [
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "cap",
        "caps",
        "caplet",
        "caplets",
        "softgel",
        "softgels",
        "gelcap",
        "gelcaps",
        "pill",
        "pills",
        "oral",
        "solution",
        "suspension",
        "liquid",
        "syrup",
        "elixir",
        "drops",
        "injection",
        "injectable",
        "inj",
        "patch",
        "patches",
        "transdermal",
        "cream",
        "gel",
        "ointment",
        "spray",
        "nasal",
        "inhaler",
        "inhalation",
        "chewable",
        "dispersible",
        "sublingual",
        "film",
        "films",
        "buccal",
        "lozenge",
        "er",
        "xr",
        "xl",
        "sr",
        "cr",
        "dr",
        "la",
        "ir",
        "ec",
        "ods",
        "odt",
        "xt",
        "cd",
        "er24",
        "extended",
        "delayed",
        "immediate",
        "controlled",
        "sustained",
        "release",
        "hcl",
        "hydrochloride",
        "hbr",
        "hydrobromide",
        "sodium",
        "potassium",
        "sulfate",
        "succinate",
        "tartrate",
        "besylate",
        "maleate",
        "fumarate",
        "citrate",
        "mesylate",
        "hyclate",
        "monohydrate",
        "dihydrate",
        "acetate",
        "phosphate",
        "bromide",
        "mg",
        "mcg",
        "ml",
        "generic",
        "brand",
        "usp",
        "daily",
        "once",
        "twice",
        "a",
        "day",
    ]
)
JOINING_WORDS = frozenset({"and", "with", "&", "+", "w"})
# Shorthand on pharmacy labels.
LABEL_SHORTHAND = {"apap": "acetaminophen", "hctz": "hydrochlorothiazide", "asa": "aspirin", "ldn": "ldn"}

TIER_EXACT, TIER_PREFIX, TIER_WORD_PREFIX, TIER_FUZZY = 0, 1, 2, 3
# Results a search gives when the caller does not say (the API's `limit`); at most SEARCH_MAX_LIMIT.
DEFAULT_LIMIT = 10
FUZZY_MIN_LENGTH = 4
FUZZY_MAX_LENGTH = 40


class SearchInputError(ValueError):
    """The text cannot be searched (empty or too long); the message is for the person."""


@dataclass(frozen=True)
class SearchResult:
    slug: str
    name: str
    matched_name: str
    is_brand: bool
    kind: str
    regimen: str | None
    regimen_label: str | None
    tier: int

    @property
    def label(self) -> str:
        """'Zoloft (sertraline)' for a brand or other name; the plain name otherwise."""
        base = _PARENTHESES.sub("", self.name)
        if self.matched_name.casefold() in (self.name.casefold(), base.casefold()):
            return self.name
        return f"{self.matched_name} ({mid_sentence(base)})"


@dataclass(frozen=True, slots=True)
class _Medication:
    slug: str
    name: str
    kind: str
    curated: bool


@dataclass(frozen=True)
class _Regimen:
    slug: str
    label: str
    min_mg: Decimal
    max_mg: Decimal


@dataclass
class SearchStats:
    """What one index has done since it was built: read by the bench, and by tests that need to see
    which path a search took."""

    lookups: int = 0
    prefix_table_answers: int = 0
    typo_passes: int = 0
    typo_names_compared: int = 0


class _Strings:
    """Many strings kept as one: a single object with one buffer instead of 100,000 small ones, so
    forked workers keep sharing its pages (no reference counts written into them) and its memory goes
    back in one piece when the index is replaced. Indexable and sized, so bisect works on it."""

    __slots__ = ("_blob", "_ends")

    def __init__(self, strings: list[str]) -> None:
        # UTF-8: one non-ASCII name would make a str blob two or four bytes a letter.
        encoded = [text.encode() for text in strings]
        self._blob = b"".join(encoded)
        self._ends = array("I", accumulate(map(len, encoded)))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, position: int) -> str:
        start = self._ends[position - 1] if position else 0
        return self._blob[start : self._ends[position]].decode()

    def many(self, positions: Iterable[int]) -> list[str]:
        blob, ends = self._blob, self._ends
        return [blob[ends[p - 1] if p else 0 : ends[p]].decode() for p in positions]


_BRAND, _MISSPELLING = 1, 2
# The names the word-prefix pass looks at per word, and the words per query.
WORD_PREFIX_LIMIT = 50
# A prefix matching more names than this is answered from the table built with the index.
PREFIX_TABLE_MIN_NAMES = 200
TYPO_EXTRA_PAIRS = 2
_EMPTY = array("I")


def _letter_pairs(key: str) -> set[str]:
    """The key's letter pairs, with its start and end marked, so a one-letter edit at either end counts."""
    padded = f"\x02{key}\x03"
    return set(map(add, padded, padded[1:]))


def _common_prefix(first: str, second: str) -> str:
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return first[:length]


class SearchIndex:
    """Every name, sorted, in a few flat arrays. A name is known by its position; a candidate during a
    search is one int per medication, its rank and position packed together, so ranking compares ints.

    The rank of a name is (tier, typo distance, its own order), and its own order is: curated first,
    then shorter, then alphabetical, with equal names equal.
    """

    def __init__(self, version: str = "") -> None:
        self.version = version
        self.owner_pid = os.getpid()
        self.stats = SearchStats()
        self.table_size = settings.SEARCH_MAX_LIMIT
        self.medications: dict[int, _Medication] = {
            pk: _Medication(slug, name, kind, curated)
            for pk, slug, name, kind, curated in Medication.objects.values_list("id", "slug", "name", "kind", "curated")
        }
        rows = list(
            MedicationName.objects.values_list("normalized", "name", "is_brand", "medication_id", "is_misspelling")
        )
        # Every medication is findable by its own name even without a MedicationName row.
        named = {(row[3], row[0]) for row in rows}
        for pk, med in self.medications.items():
            key = normalize_name(med.name)
            if (pk, key) not in named:
                rows.append((key, med.name, False, pk, False))
        rows.sort(key=itemgetter(0))
        keys = [row[0] for row in rows]
        self.keys = _Strings(keys)
        self.displays = _Strings([row[1] for row in rows])
        self.name_medication = array("q", [row[3] for row in rows])
        self.name_flags = bytes(_BRAND * bool(row[2]) | _MISSPELLING * bool(row[4]) for row in rows)
        self._bits = max(1, len(rows).bit_length())
        self._mask = (1 << self._bits) - 1
        self._tier_shift = 2 * self._bits + 8
        curated = [bool((med := self.medications.get(row[3])) and med.curated) for row in rows]
        self._own_order = self._rank_names(keys, curated)
        del rows

        words: dict[str, list[int]] = defaultdict(list)
        pairs: list[dict[str, list[int]]] = [defaultdict(list) for _ in range(FUZZY_MAX_LENGTH + 1)]
        by_length: list[list[int]] = [[] for _ in range(FUZZY_MAX_LENGTH + 1)]
        for position, key in enumerate(keys):
            if len(key) <= FUZZY_MAX_LENGTH:
                by_length[len(key)].append(position)
                buckets = pairs[len(key)]
                for pair in _letter_pairs(key):
                    buckets[pair].append(position)
            for word in key.split(" ")[1:]:
                listed = words[word]
                if len(listed) < WORD_PREFIX_LIMIT:
                    listed.append(position)
        self.words = {word: array("I", positions) for word, positions in words.items()}
        self.sorted_words = sorted(self.words)
        # Names of one length by letter pair: the typo pass reads a few of these instead of every name.
        self.pairs = [{sys.intern(p): array("I", ps) for p, ps in buckets.items()} for buckets in pairs]
        self.by_length = [array("I", positions) for positions in by_length]
        del words, pairs, by_length

        self.curated_positions = [position for position, is_curated in enumerate(curated) if is_curated]
        self.curated_keys = [keys[position] for position in self.curated_positions]
        self.curated_by_words: dict[frozenset[str], list[int]] = defaultdict(list)
        for position in self.curated_positions:
            if " " in keys[position]:
                self.curated_by_words[token_set(keys[position])].append(position)

        self.regimens: dict[int, list[_Regimen]] = defaultdict(list)
        self.implied_regimen: dict[tuple[int, str], _Regimen] = {}
        regimen_rows = Regimen.objects.prefetch_related("implied_by_brands").order_by("position", "min_mg")
        for regimen in regimen_rows:
            entry = _Regimen(regimen.slug, regimen.patient_label, regimen.min_mg, regimen.max_mg)
            self.regimens[regimen.medication_id].append(entry)
            for brand in regimen.implied_by_brands.all():
                self.implied_regimen[(brand.medication_id, brand.normalized)] = entry

        self.prefix_table = self._build_prefix_table(keys)

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def _rank_names(keys: list[str], curated: list[bool]) -> array:
        # keys are sorted, so a stable sort on (curated, length) leaves equal ones alphabetical.
        order = sorted(range(len(keys)), key=lambda p: (not curated[p], len(keys[p])))
        ranks = array("I", bytes(4 * len(keys)))
        rank, previous = -1, None
        for position in order:
            current = (curated[position], keys[position])
            if current != previous:
                rank, previous = rank + 1, current
            ranks[position] = rank
        return ranks

    def _build_prefix_table(self, keys: list[str]) -> dict[str, array]:
        """The ranked answers for every prefix that matches many names, worked out once by the same
        prefix pass a search runs. A short prefix is answered whole from it; a longer one only when its
        own matches fill any page (so neither the word nor the typo pass could add to the answer)."""
        table: dict[str, array] = {}
        seen: set[str] = set()
        # A prefix shared by more than 2 x step names holds two names `step` apart at a multiple of step.
        step = PREFIX_TABLE_MIN_NAMES // 2
        for first in range(0, len(keys) - step, step):
            common = _common_prefix(keys[first], keys[first + step])
            for length in range(1, len(common) + 1):
                prefix = common[:length]
                if prefix in seen:
                    continue
                seen.add(prefix)
                start, exact_end, end = self._prefix_range(prefix)
                if end - start <= PREFIX_TABLE_MIN_NAMES:
                    break  # and so every longer prefix
                best: dict[int, int] = {}
                self._prefix_pass(prefix, best, start, exact_end, end)
                if length <= 2 or len(best) >= self.table_size:
                    ranked = sorted(best.values(), key=lambda packed: packed >> self._bits)
                    table[prefix] = array("Q", ranked[: self.table_size])
        return table

    def lookup(self, query: str, limit: int, *, prefix_table: bool = True) -> list[SearchResult]:
        """The ranked results; `prefix_table=False` scans instead (the bench and tests compare the two)."""
        self.stats.lookups += 1
        whole = normalize_name(_NOISE.sub(" ", query))
        if any(ch.isdigit() for ch in whole) and self._is_name(whole):
            # A name with a number in it ("Tylenol 3") is that name, not a strength.
            name_query, strength = whole, None
        else:
            name_query, strength = parse_strength(query)
        key = normalize_name(_NOISE.sub(" ", name_query))
        if not key:
            return []
        best = self._candidates(key, limit, prefix_table)
        if not any(packed >> self._tier_shift < TIER_FUZZY for packed in best.values()):
            # Nothing but typo guesses: read it as a label ("sertraline hcl 50 mg tablet", "hydrocodone/apap").
            plain = label_key(key)
            if plain and plain != key:
                best = self._candidates(plain, limit, prefix_table) or best
            self._same_words(plain or key, best)
        ranked = sorted(best.items(), key=lambda item: item[1] >> self._bits)[:limit]
        return [self._result(med_id, packed, strength) for med_id, packed in ranked]

    def _is_name(self, key: str) -> bool:
        position = bisect_left(self.keys, key)
        return position < len(self.keys) and self.keys[position] == key

    def _prefix_range(self, key: str) -> tuple[int, int, int]:
        """Where the names equal to key start, where they end, and where the names starting with it end."""
        start = bisect_left(self.keys, key)
        exact_end = bisect_right(self.keys, key, start)
        if ord(key[-1]) == sys.maxunicode:
            end = exact_end
            while end < len(self.keys) and self.keys[end].startswith(key):
                end += 1
            return start, exact_end, end
        return start, exact_end, bisect_left(self.keys, key[:-1] + chr(ord(key[-1]) + 1), exact_end)

    def _pack(self, tier: int, distance: int, position: int) -> int:
        return ((((tier << 8) | distance) << self._bits | self._own_order[position]) << self._bits) | position

    def _keep(self, best: dict[int, int], packed: int) -> None:
        """The medication keeps its best-ranked name; on a tie, the one it met first."""
        med_id = self.name_medication[packed & self._mask]
        current = best.get(med_id)
        if current is None or packed >> self._bits < current >> self._bits:
            best[med_id] = packed

    def _prefix_pass(self, key: str, best: dict[int, int], start: int, exact_end: int, end: int) -> None:
        medications, name_medication, own_order, bits = (
            self.medications,
            self.name_medication,
            self._own_order,
            self._bits,
        )
        for position in range(start, end):
            med_id = name_medication[position]
            if med_id not in medications:
                continue
            tier = TIER_EXACT if position < exact_end else TIER_PREFIX
            packed = ((tier << (8 + bits) | own_order[position]) << bits) | position
            current = best.get(med_id)
            if current is None or packed >> bits < current >> bits:
                best[med_id] = packed

    def _same_words(self, key: str, best: dict[int, int]) -> None:
        """Curated names with the same words in any order ("hydrocodone acetaminophen")."""
        words = token_set(key)
        if len(words) < 2:
            return
        for position in self.curated_by_words.get(words, ()):
            self._keep(best, self._pack(TIER_WORD_PREFIX, 0, position))

    def _candidates(self, key: str, limit: int, prefix_table: bool = True) -> dict[int, int]:
        """Medication id -> its best packed rank and name, for one key."""
        if prefix_table and limit <= self.table_size:
            answer = self.prefix_table.get(key)
            if answer is not None:
                self.stats.prefix_table_answers += 1
                return {self.name_medication[packed & self._mask]: packed for packed in answer}
        best: dict[int, int] = {}
        self._prefix_pass(key, best, *self._prefix_range(key))

        if len(key) >= 3:
            word_start = bisect_left(self.sorted_words, key)
            for word in self.sorted_words[word_start : word_start + WORD_PREFIX_LIMIT]:
                if not word.startswith(key):
                    break
                for position in self.words[word]:
                    if self.name_medication[position] in self.medications:
                        self._keep(best, self._pack(TIER_WORD_PREFIX, 0, position))

        if len(best) < limit and FUZZY_MIN_LENGTH <= len(key) <= FUZZY_MAX_LENGTH:
            self._fuzzy(key, best)
        return best

    def _fuzzy(self, key: str, best: dict[int, int]) -> None:
        """Names within one or two edits (a swap of neighbours counts as one): for each length in reach,
        only the names that share enough letter pairs with the key are compared."""
        self.stats.typo_passes += 1
        words = key.split(" ")
        # "Robitussin DM" must not become "Robitussin AC": a short last word is a product suffix, kept as typed.
        suffix = words[-1] if len(words) > 1 and len(words[-1]) <= 3 else None
        max_distance = 1 if len(key) < 7 else 2
        key_pairs = _letter_pairs(key)
        # An edit changes at most three of the marked letter pairs, so a name in reach shares at least
        # `shared` of them with the key: among the key's rarest (len - shared + 1 + n) pairs it holds at
        # least 1 + n. Counting a few more pairs than the least needed drops most names before comparing.
        shared = len(key_pairs) - 3 * max_distance
        for length in range(max(0, len(key) - max_distance), min(FUZZY_MAX_LENGTH, len(key) + max_distance) + 1):
            if not self.by_length[length]:
                continue
            if shared > 0:
                buckets = self.pairs[length]
                lists = sorted((buckets.get(pair, _EMPTY) for pair in key_pairs), key=len)
                rarest = min(len(lists), len(lists) - shared + 1 + TYPO_EXTRA_PAIRS)
                needed = rarest - (len(lists) - shared)
                counts = Counter(chain.from_iterable(lists[:rarest]))
                positions = sorted(compress(counts, map(ge, counts.values(), repeat(needed))))
            else:
                positions = self.by_length[length]
            if not positions:
                continue
            self.stats.typo_names_compared += len(positions)
            matches = extract(key, self.keys.many(positions), scorer=OSA.distance, score_cutoff=max_distance, limit=50)
            for choice, distance, index in matches:
                if suffix is not None and choice.rsplit(" ", 1)[-1] != suffix:
                    continue
                position = positions[index]
                if self.name_medication[position] in self.medications:
                    self._keep(best, self._pack(TIER_FUZZY, int(distance), position))

    def _result(self, medication_id: int, packed: int, strength: Decimal | None) -> SearchResult:
        med = self.medications[medication_id]
        position = packed & self._mask
        normalized, flags = self.keys[position], self.name_flags[position]
        is_misspelling = bool(flags & _MISSPELLING)
        regimen = self.implied_regimen.get((medication_id, normalized))
        if regimen is None and strength is not None:
            regimen = next((r for r in self.regimens.get(medication_id, ()) if r.min_mg <= strength <= r.max_mg), None)
        return SearchResult(
            slug=med.slug,
            name=med.name,
            # A misspelling finds the medicine but is never shown as its name.
            matched_name=med.name if is_misspelling else self.displays[position],
            is_brand=bool(flags & _BRAND) and not is_misspelling,
            kind=med.kind,
            regimen=regimen.slug if regimen else None,
            regimen_label=regimen.label if regimen else None,
            tier=packed >> self._tier_shift,
        )


def parse_strength(text: str) -> tuple[str, Decimal | None]:
    """Split 'naltrexone 4.5 mg' into ('naltrexone', Decimal('4.5')); a bare '50' or '5/325' counts too."""
    match = _STRENGTH.search(text) or _BARE_STRENGTH.search(text)
    if match is None:
        return text, None
    try:
        strength = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:
        return text, None
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    return _BARE_STRENGTH.sub(" ", rest).strip(), strength


def label_key(key: str) -> str:
    """What is left of a normalized name once the form, salt and release words are gone."""
    words = re.split(r"[\s/+-]+", key)
    kept = [LABEL_SHORTHAND.get(word, word) for word in words if word and word not in LABEL_WORDS]
    return " ".join(kept)


def token_set(key: str) -> frozenset[str]:
    return frozenset(w for w in re.split(r"[\s/+,-]+", key) if w and w not in JOINING_WORDS)


logger = logging.getLogger(__name__)
_index: SearchIndex | None = None
# One build at a time, in a search or in the background thread: two would only double the memory.
_build_lock = threading.RLock()
_rebuild: threading.Thread | None = None
_rebuild_start = threading.Lock()


def get_index(*, version: str | None = None) -> SearchIndex:
    """The index for the current content version: one small query (none when the caller has just read
    the version and passes it), and no wait for a rebuild.

    After a content change the index is rebuilt in the background and searches keep the one they have
    until the new one is ready (settings.SEARCH_INDEX_REBUILD = "background"): by gunicorn's master for
    a fresh set of workers when this process is one of its workers, else here. With "sync", or
    when there is no index yet, the search that finds it out of date builds it. So the index may be
    older than the version: its `version` is what it was built for, not what is current.
    """
    version = version or content_version.current()
    index = _index
    if index is not None and index.version == version:
        return index
    if index is not None and settings.SEARCH_INDEX_REBUILD == "background":
        if not _left_to_master(version):
            _rebuild_in_background(version)
        return index
    with _build_lock:
        index = _index
        if index is None or index.version != version:
            started = time.monotonic()
            index = SearchIndex(version)
            _install(index)
            logger.info("Search index built in %.1f s.", time.monotonic() - started)
        return index


def _rebuild_in_background(version: str) -> None:
    global _rebuild
    with _rebuild_start:
        if _rebuild is not None and _rebuild.is_alive():
            return  # the next search after it finishes sees whether it is still out of date
        _rebuild = threading.Thread(target=_build_and_swap, args=(version,), name="search-index", daemon=True)
        _rebuild.start()


# Run by the background rebuild in a fresh interpreter: builds the index there and sends it back
# pickled. Building allocates (and frees) far more than the index keeps, and a process never gets
# back memory that freeing leaves in pieces; the child takes that with it when it exits, while the
# index read back here is laid out in one run, about 20 MB for 110,000 names.
_BUILD_IN_CHILD = """
import json, pickle, sys
import django
from django.conf import settings
request = json.load(sys.stdin)
settings.DATABASES["default"]["NAME"] = request["database"]
django.setup()
from interactions.search import SearchIndex
sys.stdout.buffer.write(pickle.dumps(SearchIndex(request["version"]), protocol=pickle.HIGHEST_PROTOCOL))
"""


def _build_in_child(version: str) -> SearchIndex:
    request = {"version": version, "database": str(connections["default"].settings_dict["NAME"])}
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _BUILD_IN_CHILD],
        input=json.dumps(request).encode(),
        capture_output=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")},
        timeout=600,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the index build exited with {completed.returncode}: {completed.stderr[-2000:]!r}")
    index = pickle.loads(completed.stdout)  # noqa: S301 - our own child process, just started
    index.owner_pid = os.getpid()
    return index


def _build_and_swap(version: str) -> None:
    try:
        with _build_lock:
            if _index is not None and _index.version == version:
                return
            started = time.monotonic()
            index = _build_in_child(version)
            _install(index)
            logger.info("Search index rebuilt in the background in %.1f s.", time.monotonic() - started)
    except Exception:
        logger.exception("The search index could not be rebuilt; searches keep the previous one.")
    finally:
        connections.close_all()  # this thread's own connection


def wait_for_rebuild() -> None:
    """Return once a background rebuild that has started is done (the bench and tests use this)."""
    thread = _rebuild
    if thread is not None:
        thread.join()


# The index this process inherited from gunicorn's master, if it has replaced it: kept, never freed.
# Its pages are shared with the master, which keeps them anyway; freeing it here would write to every
# one of them, and so copy them all into this process, to return nothing to the system.
_inherited: list[SearchIndex] = []


def _install(index: SearchIndex) -> None:
    global _index
    previous, _index = _index, index
    if previous is not None and previous.owner_pid != os.getpid():
        _inherited.append(previous)
    del previous
    return_memory()  # what the build itself used, and the replaced index


def return_memory() -> None:
    """Hand the freed pages of a replaced index back to the system: glibc keeps them otherwise, and
    each rebuild would leave the process bigger."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


# --- Under gunicorn's master ------------------------------------------------------------------------
# With preload_app the master holds the index its workers share (config/gunicorn.conf.py). A worker
# asks it for a new one through a file per content version, in a directory that only this master and
# its workers use: created empty by the first worker to ask (O_EXCL, so only one of them sends the
# HUP), it then holds the number gunicorn gave the last worker forked before the master answered.
# Workers forked after the answer have higher numbers.

ASK_MASTER, WAIT_FOR_MASTER, REBUILD_HERE = "ask", "wait", "rebuild"
# A request the master has not answered in this long (it never got the HUP): the workers rebuild their
# own. Longer than the master's build may take (the child's timeout in _build_in_child).
MASTER_ANSWER_SECONDS = 900


@dataclass(frozen=True)
class GunicornMaster:
    """The master this worker was forked from, as gunicorn's post_fork hook saw it."""

    pid: int
    requests: Path
    worker_age: int  # gunicorn's number for this worker: higher for each worker it forks


_requests: Path | None = None  # in the master, once it shares its index (and inherited by its workers)
_master: GunicornMaster | None = None  # in a worker forked from it


def share_with_workers() -> Path:
    """In gunicorn's master, before it forks: the directory its workers ask through. Made again where
    the workers look for it when something removed it (a temp cleaner, after days without a publish);
    meanwhile a worker that finds it gone rebuilds its own index."""
    global _requests
    if _requests is not None and not _requests.is_dir():
        try:
            _requests.mkdir(mode=0o700)
        except OSError:  # the name is taken: a new directory, for the workers forked from now on
            _requests = None
    if _requests is None:
        _requests = Path(tempfile.mkdtemp(prefix=f"medwise-search-{os.getpid()}-"))
    return _requests


def stop_sharing() -> None:
    """In gunicorn's master as it exits: the requests go with it."""
    global _requests
    if _requests is not None:
        shutil.rmtree(_requests, ignore_errors=True)
        _requests = None


def forked_from_master(*, pid: int, worker_age: int) -> None:
    """In a worker gunicorn has just forked: from now on an index out of date is first asked of the
    master (when it shares one: share_with_workers() ran before the fork)."""
    global _master
    _master = None if _requests is None else GunicornMaster(pid, _requests, worker_age)


def request_path(requests: Path, version: str) -> Path:
    return requests / hashlib.sha256(version.encode()).hexdigest()[:32]


def ask_master(requests: Path, version: str, *, worker_age: int, now: float | None = None) -> str:
    """What a worker whose index is older than `version` does, making the request if nobody has:
    ASK_MASTER for the worker that has just made it (it sends the HUP); WAIT_FOR_MASTER while the
    request is open, or once it is answered for a worker forked before the answer (the master stops it
    soon); REBUILD_HERE for a worker forked after the answer (the master's build did not give it this
    version) or when the request has stayed open for MASTER_ANSWER_SECONDS."""
    path = request_path(requests, version)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    else:
        return ASK_MASTER
    try:
        answer, modified = path.read_text(), path.stat().st_mtime
    except FileNotFoundError:  # forgotten just now: the version has moved on since this search read it
        return WAIT_FOR_MASTER
    if not answer:
        waited = (time.time() if now is None else now) - modified
        return WAIT_FOR_MASTER if waited < MASTER_ANSWER_SECONDS else REBUILD_HERE
    return REBUILD_HERE if worker_age > int(answer) else WAIT_FOR_MASTER


def open_requests(requests: Path) -> list[Path]:
    """The requests no reload has answered yet."""
    return [path for path in requests.iterdir() if not path.name.startswith(".") and not path.stat().st_size]


def answer_requests(paths: Iterable[Path], *, worker_age: int) -> None:
    """Mark the requests answered by a reload whose new workers are numbered after `worker_age`."""
    for path in paths:
        scratch = path.with_name(f".{path.name}")
        scratch.write_text(str(worker_age))
        os.replace(scratch, path)  # a worker reads the request open or answered, never half-written


def forget_requests(requests: Path, *, keep: str) -> None:
    """Drop the answered requests for every version but `keep`: the current one, which workers still
    finishing their last requests may look up again (and must not ask for a second time)."""
    kept = request_path(requests, keep)
    for path in requests.iterdir():
        if path != kept and not path.name.startswith(".") and path.stat().st_size:
            path.unlink(missing_ok=True)


def rebuild_for_new_workers(*, worker_age: int) -> SearchIndex | None:
    """In gunicorn's master on a HUP, before it forks a fresh set of workers: the index for the current
    content version, built in a child process as a worker's background rebuild is; None when the
    master's is current. Raises when the build fails: the master keeps its index, and the new workers
    rebuild their own. Either way the requests open until now are answered (numbered `worker_age`)."""
    requests = share_with_workers()
    # Read before the version: a request made during the build may be for a version newer than this
    # build, so it stays open for the next HUP (its sender's), and the new workers wait for that one.
    asked = open_requests(requests)
    version = None
    try:
        version = content_version.current()
        if _index is not None and _index.version == version:
            return None
        index = _build_in_child(version)
        _install(index)
        return index
    finally:
        answer_requests(asked, worker_age=worker_age)
        if version is not None:
            forget_requests(requests, keep=version)


def _left_to_master(version: str) -> bool:
    """Whether this worker leaves `version` to gunicorn's master (asking for it if nobody has) and keeps
    its index until the master replaces the worker; False when it rebuilds its own."""
    master = _master
    if master is None or os.getppid() != master.pid:
        return False
    try:
        decision = ask_master(master.requests, version, worker_age=master.worker_age)
    except (OSError, ValueError):  # the requests are gone or unreadable: never fail a search for them
        logger.warning("Search index requests unreadable; this worker rebuilds its own.", exc_info=True)
        return False
    if decision == ASK_MASTER:
        try:
            os.kill(master.pid, signal.SIGHUP)
        except OSError:
            logger.warning("Could not ask gunicorn's master for a new search index.", exc_info=True)
            with contextlib.suppress(OSError):  # answered, so no worker waits for it
                answer_requests([request_path(master.requests, version)], worker_age=0)
            return False
        logger.info("Search index out of date: asked gunicorn's master (pid %s) to rebuild it.", master.pid)
    return decision != REBUILD_HERE


def invalidate_index(**kwargs) -> None:
    global _index
    _index = None


def clean_query(raw: str | None) -> str:
    """Check what a person typed; raise SearchInputError with a plain message when it cannot be used."""
    text = (raw or "").replace("\x00", "").strip()
    if not text:
        raise SearchInputError("Type the name of a medicine to search.")
    if len(text) > settings.SEARCH_MAX_QUERY_LENGTH:
        raise SearchInputError(
            f"That is too long to be a medicine name. Use at most {settings.SEARCH_MAX_QUERY_LENGTH} characters."
        )
    return text


def search(query: str, *, limit: int = DEFAULT_LIMIT, index: SearchIndex | None = None) -> list[SearchResult]:
    """Ranked medications for what a person typed: exact, then prefix, then word, then typo matches.

    A caller resolving many names passes one `index` for all of them (get_index() costs a query).
    """
    text = clean_query(query)
    index = index if index is not None else get_index()
    return index.lookup(text, max(1, min(limit, settings.SEARCH_MAX_LIMIT)))


@dataclass(frozen=True)
class Suggestion:
    slug: str
    name: str


def suggestions(query: str, *, limit: int = 3, index: SearchIndex | None = None) -> list[Suggestion]:
    """Looser guesses among the hand-checked medicines, for names that found nothing: the real
    medicine's name, never the typo or misspelling that matched."""
    index = index if index is not None else get_index()
    key = normalize_name(parse_strength(query)[0])
    matches = extract(key, index.curated_keys, scorer=fuzz.WRatio, score_cutoff=75, limit=limit * 4)
    found: dict[str, Suggestion] = {}
    for _choice, _score, position in matches:
        medication = index.medications[index.name_medication[index.curated_positions[position]]]
        found.setdefault(medication.slug, Suggestion(medication.slug, medication.name))
    return list(found.values())[:limit]


def suggest(query: str, *, limit: int = 3, index: SearchIndex | None = None) -> list[str]:
    """The suggestions' names (the API's `suggestions` field)."""
    return [s.name for s in suggestions(query, limit=limit, index=index)]


def best_match(query: str, *, index: SearchIndex | None = None) -> SearchResult | None:
    results = search(query, limit=1, index=index)
    return results[0] if results else None
