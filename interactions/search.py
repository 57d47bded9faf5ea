"""Typo-tolerant medication search: one service for the pages, the API and the list builder.

All names live in an in-memory index built once per process (three queries) and dropped
whenever the catalog changes, so a search itself runs no query at all.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
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


@dataclass(frozen=True)
class _Name:
    normalized: str
    display: str
    is_brand: bool
    medication_id: int
    is_misspelling: bool = False


@dataclass(frozen=True)
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


class SearchIndex:
    def __init__(self, version: str = "") -> None:
        self.version = version
        self.medications: dict[int, _Medication] = {
            pk: _Medication(slug, name, kind, curated)
            for pk, slug, name, kind, curated in Medication.objects.values_list("id", "slug", "name", "kind", "curated")
        }
        names = [
            _Name(normalized, display, is_brand, medication_id, is_misspelling)
            for normalized, display, is_brand, medication_id, is_misspelling in MedicationName.objects.values_list(
                "normalized", "name", "is_brand", "medication_id", "is_misspelling"
            )
        ]
        # Every medication is findable by its own name even without a MedicationName row.
        named = {(n.medication_id, n.normalized) for n in names}
        for pk, med in self.medications.items():
            key = normalize_name(med.name)
            if (pk, key) not in named:
                names.append(_Name(key, med.name, False, pk))
        self.names = sorted(names, key=lambda n: n.normalized)
        self.sorted_keys = [n.normalized for n in self.names]
        self.by_length: dict[int, list[int]] = defaultdict(list)
        self.keys_by_length: dict[int, list[str]] = defaultdict(list)
        self.words: dict[str, list[int]] = defaultdict(list)
        for position, name in enumerate(self.names):
            if len(name.normalized) <= FUZZY_MAX_LENGTH:
                self.by_length[len(name.normalized)].append(position)
                self.keys_by_length[len(name.normalized)].append(name.normalized)
            for word in name.normalized.split(" ")[1:]:
                self.words[word].append(position)
        self.sorted_words = sorted(self.words)

        self.curated_names = [n for n in self.names if self.medications[n.medication_id].curated]
        self.curated_keys = [n.normalized for n in self.curated_names]
        self.curated_by_words: dict[frozenset[str], list[int]] = defaultdict(list)
        for position, name in enumerate(self.names):
            if self.medications[name.medication_id].curated and " " in name.normalized:
                self.curated_by_words[token_set(name.normalized)].append(position)

        self.regimens: dict[int, list[_Regimen]] = defaultdict(list)
        self.implied_regimen: dict[tuple[int, str], _Regimen] = {}
        regimen_rows = Regimen.objects.prefetch_related("implied_by_brands").order_by("position", "min_mg")
        for regimen in regimen_rows:
            entry = _Regimen(regimen.slug, regimen.patient_label, regimen.min_mg, regimen.max_mg)
            self.regimens[regimen.medication_id].append(entry)
            for brand in regimen.implied_by_brands.all():
                self.implied_regimen[(brand.medication_id, brand.normalized)] = entry

    def lookup(self, query: str, limit: int) -> list[SearchResult]:
        whole = normalize_name(_NOISE.sub(" ", query))
        if any(ch.isdigit() for ch in whole) and self._is_name(whole):
            # A name with a number in it ("Tylenol 3") is that name, not a strength.
            name_query, strength = whole, None
        else:
            name_query, strength = parse_strength(query)
        key = normalize_name(_NOISE.sub(" ", name_query))
        if not key:
            return []
        best = self._candidates(key, limit)
        if not any(rank[0] < TIER_FUZZY for rank, _name in best.values()):
            # Nothing but typo guesses: read it as a label ("sertraline hcl 50 mg tablet", "hydrocodone/apap").
            plain = label_key(key)
            if plain and plain != key:
                best = self._candidates(plain, limit) or best
            self._same_words(plain or key, best)
        ranked = sorted(best.items(), key=lambda item: item[1][0])[:limit]
        return [self._result(med_id, rank[0], name, strength) for med_id, (rank, name) in ranked]

    def _is_name(self, key: str) -> bool:
        position = bisect_left(self.sorted_keys, key)
        return position < len(self.sorted_keys) and self.sorted_keys[position] == key

    def _same_words(self, key: str, best: dict) -> None:
        """Curated names with the same words in any order ("hydrocodone acetaminophen")."""
        words = token_set(key)
        if len(words) < 2:
            return
        for position in self.curated_by_words.get(words, ()):
            name = self.names[position]
            rank = (TIER_WORD_PREFIX, 0, False, True, len(name.normalized), name.normalized)
            current = best.get(name.medication_id)
            if current is None or rank < current[0]:
                best[name.medication_id] = (rank, name)

    def _candidates(self, key: str, limit: int) -> dict[int, tuple[tuple, _Name]]:
        best: dict[int, tuple[tuple, _Name]] = {}
        words = key.split(" ")
        # "Robitussin DM" must not become "Robitussin AC": a short last word is a product suffix, kept as typed.
        suffix = words[-1] if len(words) > 1 and len(words[-1]) <= 3 else None

        def consider(position: int, tier: int, distance: int = 0) -> None:
            name = self.names[position]
            med = self.medications.get(name.medication_id)
            if med is None:
                return
            if tier == TIER_FUZZY and suffix is not None and name.normalized.split(" ")[-1] != suffix:
                return
            rank = (
                tier,
                distance,
                not med.curated,
                name.normalized != key,
                len(name.normalized),
                name.normalized,
            )
            current = best.get(name.medication_id)
            if current is None or rank < current[0]:
                best[name.medication_id] = (rank, name)

        start = bisect_left(self.sorted_keys, key)
        for position in range(start, len(self.sorted_keys)):
            candidate = self.sorted_keys[position]
            if not candidate.startswith(key):
                break
            consider(position, TIER_EXACT if candidate == key else TIER_PREFIX)

        if len(key) >= 3:
            word_start = bisect_left(self.sorted_words, key)
            for word in self.sorted_words[word_start : word_start + 50]:
                if not word.startswith(key):
                    break
                for position in self.words[word][:50]:
                    consider(position, TIER_WORD_PREFIX)

        if len(best) < limit and FUZZY_MIN_LENGTH <= len(key) <= FUZZY_MAX_LENGTH:
            self._fuzzy(key, consider)
        return best

    def _fuzzy(self, key: str, consider) -> None:
        max_distance = 1 if len(key) < 7 else 2
        for length in range(len(key) - max_distance, len(key) + max_distance + 1):
            choices = self.keys_by_length.get(length)
            if not choices:
                continue
            positions = self.by_length[length]
            matches = extract(key, choices, scorer=OSA.distance, score_cutoff=max_distance, limit=50)
            for _choice, distance, index in matches:
                consider(positions[index], TIER_FUZZY, int(distance))

    def _result(self, medication_id: int, tier: int, name: _Name, strength: Decimal | None) -> SearchResult:
        med = self.medications[medication_id]
        regimen = self.implied_regimen.get((medication_id, name.normalized))
        if regimen is None and strength is not None:
            regimen = next((r for r in self.regimens.get(medication_id, ()) if r.min_mg <= strength <= r.max_mg), None)
        return SearchResult(
            slug=med.slug,
            name=med.name,
            # A misspelling finds the medicine but is never shown as its name.
            matched_name=med.name if name.is_misspelling else name.display,
            is_brand=name.is_brand and not name.is_misspelling,
            kind=med.kind,
            regimen=regimen.slug if regimen else None,
            regimen_label=regimen.label if regimen else None,
            tier=tier,
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


_index: SearchIndex | None = None
_index_lock = threading.Lock()


def get_index() -> SearchIndex:
    """The index for the current content version: one small query, plus a rebuild after content changes."""
    global _index
    version = content_version.current()
    index = _index
    if index is None or index.version != version:
        with _index_lock:
            if _index is None or _index.version != version:
                _index = SearchIndex(version)
            index = _index
    return index


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
        medication = index.medications[index.curated_names[position].medication_id]
        found.setdefault(medication.slug, Suggestion(medication.slug, medication.name))
    return list(found.values())[:limit]


def suggest(query: str, *, limit: int = 3, index: SearchIndex | None = None) -> list[str]:
    """The suggestions' names (the API's `suggestions` field)."""
    return [s.name for s in suggestions(query, limit=limit, index=index)]


def best_match(query: str, *, index: SearchIndex | None = None) -> SearchResult | None:
    results = search(query, limit=1, index=index)
    return results[0] if results else None
