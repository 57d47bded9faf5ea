"""Check a medication list against the reviewed rules.

`check()` looks at every pair of entries, through the ingredients of combination products, and at
the list as a whole. A medicine's groups (its classes and mechanisms: "raises serotonin", "strong
CYP3A4 inhibitor") are its profile, so one rule between two groups covers every pair of medicines
that belong to them.

For a pair, every rule whose sides match is a candidate; a rule is dropped when another candidate
refines it (each side the same or narrower: a dose form is narrower than its medicine, a medicine
than its groups, a combination product than its ingredients, a group than the groups it is in).
What is left is shown; the most severe gives the pair its verdict, and a reassuring answer never
sits beside a warning for the same pair.

It never says "no interaction" for a pair our reviewed content does not cover: such pairs come back
as NOT_REVIEWED. It runs a fixed number of queries whatever the list size.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import date
from enum import StrEnum
from functools import cached_property
from itertools import combinations, product

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from core import content_version
from core.slugs import is_slug
from interactions.content_packs import fill_placeholders
from interactions.models import (
    SEVERITY_RANK,
    DrugClass,
    Interaction,
    ListRule,
    Medication,
    Regimen,
    Severity,
    StandingMessage,
    mid_sentence,
)


class FindingKind(StrEnum):
    INTERACTION = "interaction"
    DUPLICATE_INGREDIENT = "duplicate-ingredient"
    DUPLICATE_CLASS = "duplicate-class"
    WHOLE_LIST = "whole-list"


class PairStatus(StrEnum):
    FINDING = "finding"
    NO_KNOWN_INTERACTION = "no-known-interaction"
    NOT_REVIEWED = "not-reviewed"


@dataclass(frozen=True)
class CheckEntry:
    """One line of a person's list: a medication slug and, where known, its regimen slug."""

    slug: str
    regimen: str | None = None


@dataclass(frozen=True)
class DoseVariant:
    regimen: str
    regimen_label: str
    severity: str
    title: str


@dataclass(frozen=True)
class Timing:
    days: int | None
    stop_first: str | None
    then_start: str | None
    text: str


class ContentKey:
    """A finding's content as a dictionary key, hashed once: its fields hold dose variants and timings
    (dataclasses, hashed in Python), and a long list looks up hundreds of cards a page."""

    __slots__ = ("_hash", "fields")

    def __init__(self, fields: tuple) -> None:
        self.fields = fields
        self._hash = hash(fields)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, ContentKey) and self._hash == other._hash and self.fields == other.fields

    def __repr__(self) -> str:
        return f"ContentKey({self.fields!r})"


@dataclass(frozen=True)
class Finding:
    kind: str
    # The list entries involved: two for a pair, any number for a whole-list finding.
    entries: tuple[int, ...]
    # The medicines the answer comes from (ingredients of combination products), one per entry.
    ingredients: tuple[str, ...]
    severity: str
    title: str
    summary: str
    action: str
    urgent_signs: tuple[str, ...] = ()
    timing: Timing | None = None
    evidence: str = ""
    mechanism: str = ""
    rule: Interaction | ListRule | None = None
    dose_variants: tuple[DoseVariant, ...] = ()
    # True when both sides of the rule are mechanisms, not named medicines or classes.
    by_mechanism: bool = False
    # Everything the finding says, without where it sits on a list: the key its card (and anything
    # else made from the finding alone) is kept under. Worked out once, when the finding is made;
    # a finding placed at a list's positions (_placed) carries it along.
    content_key: ContentKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rule = self.rule
        said = tuple(getattr(self, name) for name in _FINDING_CONTENT_FIELDS)
        key = ContentKey((*said, (type(rule).__name__, rule.pk) if rule is not None else None))
        object.__setattr__(self, "content_key", key)

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    @property
    def articles(self) -> list:
        return list(getattr(self.rule, "published_articles", ())) if self.rule is not None else []

    @property
    def references(self) -> list:
        return list(self.rule.references.all()) if self.rule is not None else []


_FINDING_CONTENT_FIELDS = tuple(
    f.name for f in dataclass_fields(Finding) if f.name not in {"entries", "rule", "content_key"}
)


class PairAnswer:
    """What the check says about two medicines at their doses, worked out once per content version
    and kept: the findings at positions 0 and 1 (most severe first, then by kind), what is not
    reviewed, the status and the verdict. `key` stands for the two medicines and doses (and the day)
    this content version, never for a list."""

    __slots__ = ("dose_question_ranks", "findings", "key", "status", "unreviewed", "verdict")

    def __init__(self, key: tuple, findings: list[Finding], unreviewed: tuple[tuple[str, str], ...]) -> None:
        self.key = key
        self.findings = tuple(findings)
        self.unreviewed = unreviewed
        if findings:
            self.status = PairStatus.FINDING
        elif unreviewed:
            self.status = PairStatus.NOT_REVIEWED
        else:
            self.status = PairStatus.NO_KNOWN_INTERACTION
        self.verdict = max((f.severity for f in findings), key=lambda s: SEVERITY_RANK[s], default=None)
        # The severities at which a finding's answer depends on a dose the list does not give.
        self.dose_question_ranks = tuple(
            sorted(
                {f.severity_rank for f in findings if f.dose_variants and f.severity not in DOSE_QUESTION_QUIET},
                reverse=True,
            )
        )


# A finding this mild does not make the provider sheet ask which dose it is.
DOSE_QUESTION_QUIET = frozenset({Severity.NONE, Severity.MINOR})


# Not frozen: a long list makes hundreds a check, and a frozen dataclass sets each field the slow way.
@dataclass(slots=True)
class PairResult:
    entries: tuple[int, int]
    status: str
    # Ingredient pairs our reviewed content does not cover, even when other ingredients have findings.
    unreviewed: tuple[tuple[str, str], ...] = ()
    # The verdict: the most severe finding's severity, or None when there is no finding.
    severity: str | None = None
    # The answer kept for the pair's medicines and doses, which its findings come from.
    answer: PairAnswer | None = field(default=None, compare=False, repr=False)

    @property
    def findings(self) -> list[Finding]:
        """The pair's findings at its places on the list, most severe first."""
        if self.answer is None:
            return []
        return [_placed(finding, self.entries) for finding in self.answer.findings]


@dataclass(frozen=True)
class SafetyMessage:
    key: str
    title: str
    text: str
    more: str = ""
    entries: tuple[int, ...] = ()


@dataclass(frozen=True)
class ResolvedEntry:
    index: int
    medication: Medication
    regimen: Regimen | None
    covered: bool
    ingredients: tuple[Medication, ...]


SEVERITY_RANKS_DOWN = tuple(sorted(set(SEVERITY_RANK.values()), reverse=True))


@dataclass
class CheckResult:
    entries: list[ResolvedEntry]
    unknown: list[int] = field(default_factory=list)
    # Every pair in list order; a pair's findings are its answer's, placed when asked for.
    pairs: list[PairResult] = field(default_factory=list)
    # Findings for the list as a whole, in list order (by their entries).
    list_findings: list[Finding] = field(default_factory=list)
    safety_messages: list[SafetyMessage] = field(default_factory=list)

    @cached_property
    def findings(self) -> list[Finding]:
        """Every finding, most severe first; pairs in list order, then whole-list findings.

        Placed at the list's positions only when asked for: the check page works from the pairs'
        answers, and a long list has hundreds of findings."""
        by_severity: dict[int, list[Finding]] = {rank: [] for rank in SEVERITY_RANKS_DOWN}
        for pair in self.pairs:
            for finding in pair.findings:
                by_severity[SEVERITY_RANK[finding.severity]].append(finding)
        for finding in self.list_findings:
            by_severity[SEVERITY_RANK[finding.severity]].append(finding)
        return [finding for bucket in by_severity.values() for finding in bucket]

    @property
    def not_reviewed_pairs(self) -> list[PairResult]:
        return [p for p in self.pairs if p.unreviewed]

    @property
    def pair_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind != FindingKind.WHOLE_LIST]

    def count(self, *severities: str) -> int:
        return sum(1 for f in self.findings if f.severity in severities)


# --- the reviewed content, indexed once per content version ----------------------------------------

Key = tuple  # ("m", medication id, regimen id or None) or ("c", group id)


def _load_medications(slugs: Iterable[str]) -> dict[str, Medication]:
    return {
        med.slug: med
        for med in Medication.objects.filter(slug__in={s for s in slugs if is_slug(s)}).prefetch_related(
            "classes",
            "regimens__classes",
            "ingredients__classes",
            "ingredients__regimens__classes",
        )
    }


# Bounds on what one process keeps per content version: enough for every curated medicine and the
# pairs of many lists, small enough (a few MB) that odd traffic cannot grow it without limit.
MEDICATION_CACHE_SIZE = 5_000
PAIR_CACHE_SIZE = 20_000
# Finding cards' HTML and the API's JSON pieces (a few kB each) per language: the findings of many long
# lists (a 30-medicine page and its API check hold about 800), some 15 MB at most.
RENDERED_CACHE_SIZE = 5_000


def _load_rules() -> list[Interaction]:
    # The guides that cite a rule, through the reverse relation: the articles' app builds on this one.
    articles = Interaction._meta.get_field("articles").related_model
    return list(
        Interaction.objects.published()
        .select_related("drug_class_a", "drug_class_b")
        .prefetch_related(
            "references",
            Prefetch(
                "articles",
                queryset=articles.objects.published().only("slug", "title", "topic"),
                to_attr="published_articles",
            ),
        )
    )


def side_key(rule: Interaction, side: str) -> Key:
    med_id = getattr(rule, f"medication_{side}_id")
    if med_id is not None:
        return ("m", med_id, getattr(rule, f"regimen_{side}_id"))
    return ("c", getattr(rule, f"drug_class_{side}_id"))


class ReviewedContent:
    """Groups, rules, whole-list rules and standing messages for one content version."""

    def __init__(
        self,
        classes: Sequence[DrugClass],
        also_in: Iterable[tuple[int, int]],
        rules: Sequence[Interaction],
        list_rules: Sequence[ListRule] = (),
        messages: Sequence[StandingMessage] = (),
        coverage_expires: dict[int, date] | None = None,
    ) -> None:
        self.classes = {c.id: c for c in classes}
        # covered medication id -> the day its sign-off lapses
        self.coverage_expires = coverage_expires or {}
        broader: dict[int, set[int]] = defaultdict(set)
        for drug_class in classes:
            if drug_class.parent_id is not None:
                broader[drug_class.id].add(drug_class.parent_id)
        for narrow, wide in also_in:
            broader[narrow].add(wide)
        # group id -> {each group it is in, itself included: its distance up the tree}
        self.ancestors = {class_id: self._walk(class_id, broader) for class_id in self.classes}
        self.by_side: dict[Key, list[tuple[Interaction, Key, bool]]] = defaultdict(list)
        for rule in rules:
            a, b = side_key(rule, "a"), side_key(rule, "b")
            self.by_side[a].append((rule, b, True))
            if a != b:
                self.by_side[b].append((rule, a, False))
        self.list_rules = sorted(list_rules, key=lambda r: (-r.severity_rank, r.slug))
        self.messages: dict[Key, list[StandingMessage]] = defaultdict(list)
        for message in messages:
            self.messages[message.target_key()].append(message)
        # Valid for this content version only, so never stale; bounded so odd traffic cannot grow it.
        self._keys: dict[tuple, frozenset] = {}
        self._medications: dict[str, Medication | None] = {}
        self._pairs: dict[tuple, tuple[list[Finding], list[tuple[str, str]]]] = {}
        self._rendered: dict[tuple, object] = {}
        self._numbers: dict[tuple, int] = {}
        self._next_number = 0

    def __getstate__(self) -> dict:
        # The shared cache holds the index only; each process fills its own caches.
        caches = {"_keys": {}, "_medications": {}, "_pairs": {}, "_rendered": {}, "_numbers": {}, "_next_number": 0}
        return {**self.__dict__, **caches}

    def medications(self, slugs: Iterable[str]) -> dict[str, Medication]:
        """The list's medicines with their groups, doses and ingredients: a query only for new ones."""
        wanted = set(slugs)
        missing = wanted - self._medications.keys()
        if missing:
            if len(self._medications) + len(missing) > MEDICATION_CACHE_SIZE:
                self._medications.clear()
                missing = wanted
            found = _load_medications(missing)
            self._medications.update({slug: found.get(slug) for slug in missing})
        return {slug: self._medications[slug] for slug in wanted if self._medications.get(slug) is not None}

    def regimen_slugs(self, medication: Medication) -> frozenset[str]:
        """The slugs of a medicine's dose forms (a saved list's doses are checked against them)."""
        return self.remember(
            ("regimen-slugs", medication.id), lambda: frozenset(r.slug for r in medication.regimens.all())
        )

    def number(self, key: tuple) -> int:
        """A small number for `key`, the same each time this content version (bounded, never reused):
        a short key to keep things under."""
        found = self._numbers.get(key)
        if found is None:
            if len(self._numbers) >= PAIR_CACHE_SIZE:
                self._numbers.clear()
            found = self._numbers[key] = self._next_number
            self._next_number += 1
        return found

    def remember(self, key: tuple, build):
        """A pair's answer (or an entry's profile), worked out once per content version."""
        return _bounded(self._pairs, PAIR_CACHE_SIZE, key, build)

    def rendered(self, key: tuple, build):
        """Markup made from this content alone (a finding card), once per content version.

        Pages keep it here so it goes with the version; it must never hold anything of a person's list.
        """
        return _bounded(self._rendered, RENDERED_CACHE_SIZE, key, build)

    def rendered_all(self, keys: list[tuple], build: Callable[[int], object]) -> list:
        """rendered() for each of `keys` (a page's cards): `build(i)` makes what keys[i] names when it
        is not kept yet."""
        found = list(map(self._rendered.get, keys))
        if None in found:
            for i, kept in enumerate(found):
                if kept is None:
                    found[i] = self.rendered(keys[i], lambda i=i: build(i))
        return found

    @staticmethod
    def _walk(class_id: int, broader: dict[int, set[int]]) -> dict[int, int]:
        distances, frontier, distance = {class_id: 0}, [class_id], 0
        while frontier:
            distance += 1
            frontier = [up for current in frontier for up in broader.get(current, ()) if up not in distances]
            for up in frontier:
                distances[up] = distance
        return distances

    def group_keys(self, class_ids: Iterable[int]) -> set[Key]:
        return {("c", up) for class_id in class_ids for up in self.ancestors.get(class_id, {class_id: 0})}

    def keys(self, medication: Medication, regimen: Regimen | None) -> frozenset:
        """Every rule side a medicine (at a dose, where known) matches."""
        cache_key = (medication.id, regimen.id if regimen else None)
        found = self._keys.get(cache_key)
        if found is None:
            class_ids = [c.id for c in medication.classes.all()]
            keys = {("m", medication.id, None)}
            if regimen is not None:
                keys.add(("m", medication.id, regimen.id))
                class_ids += [c.id for c in regimen.classes.all()]
            found = frozenset(keys | self.group_keys(class_ids))
            if len(self._keys) > 50_000:
                self._keys.clear()
            self._keys[cache_key] = found
        return found


def _bounded(store: dict, size: int, key: tuple, build):
    found = store.get(key)
    if found is None:
        if len(store) >= size:
            store.clear()
        found = store[key] = build()
    return found


_memo: tuple[str, ReviewedContent] | None = None


def reviewed_content(*, version: str | None = None) -> ReviewedContent:
    """The index for the current content version, kept in this process and in the shared cache.

    A caller that has just read the version (the search index carries it) passes it, saving a query.
    """
    global _memo
    version = version or content_version.current()
    if _memo is None or _memo[0] != version:
        _memo = (version, content_version.cached("checker", version, build_content))
    return _memo[1]


def covered_count(today: date | None = None, *, content: ReviewedContent | None = None) -> int:
    """How many medicines our reviewed content covers today (the one line on the check page)."""
    today = today or date.today()
    content = content or reviewed_content()
    return sum(1 for expires in content.coverage_expires.values() if expires >= today)


def build_content() -> ReviewedContent:
    """The index built afresh from the database as it is now (uncached: see reviewed_content())."""
    return ReviewedContent(
        classes=list(DrugClass.objects.all()),
        also_in=list(DrugClass.also_in.through.objects.values_list("from_drugclass_id", "to_drugclass_id")),
        rules=_load_rules(),
        list_rules=list(ListRule.objects.published().prefetch_related("references")),
        messages=list(StandingMessage.objects.published()),
        coverage_expires={
            m.id: m.coverage_expires_on()
            for m in Medication.objects.filter(interactions_reviewed=True, coverage_signed_on__isnull=False).only(
                "id", "coverage_signed_on"
            )
        },
    )


# --- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Component:
    """One ingredient of one entry, with the regimen it was given (None: unknown or not relevant)."""

    entry: int
    medication: Medication
    regimen: Regimen | None
    possible_regimens: tuple[Regimen, ...]
    product: Medication | None  # the combination product this ingredient came in

    @property
    def from_combination(self) -> bool:
        return self.product is not None

    def keys(self, content: ReviewedContent, regimen: Regimen | None) -> frozenset:
        keys = content.keys(self.medication, regimen)
        if self.product is not None:
            keys = keys | content.keys(self.product, None)
        return keys

    def narrower_than(self, key: Key, content: ReviewedContent, regimen: Regimen | None) -> frozenset:
        """The sides that a rule side `key`, matched on this component, refines (itself included)."""
        if self.product is not None:
            own = content.keys(self.medication, regimen)
            if key not in own and key in content.keys(self.product, None):
                # The product itself, or a group only the product is in (opioid cough medicines), is
                # narrower than anything about its ingredient.
                return self.keys(content, regimen)
        if key[0] == "c":
            return frozenset(content.group_keys([key[1]]))
        return content.keys(self.medication, regimen if key[2] is not None else None)


@dataclass(frozen=True)
class _Match:
    rule: Interaction
    x_key: Key
    y_key: Key
    x_is_a: bool


def _key_order(key: Key) -> tuple:
    return tuple(-1 if part is None else part for part in key)


def _matches(x: _Component, rx, y: _Component, ry, content: ReviewedContent) -> list[_Match]:
    """The rules between two components at the given doses, with every refined rule dropped."""
    x_keys, y_keys = x.keys(content, rx), y.keys(content, ry)
    same_medicine = x.medication.id == y.medication.id
    found: dict[int, _Match] = {}
    # In a fixed order (sets of keys iterate in an order that changes with each process's hash seed):
    # when both medicines are in both of a rule's groups, the rule reads with the first medicine as
    # its side A, the same way in every process.
    for x_key in sorted(x_keys, key=_key_order):
        for rule, other, x_is_a in content.by_side.get(x_key, ()):
            if other in y_keys and (rule.id not in found or (x_is_a and not found[rule.id].x_is_a)):
                match = _Match(rule, x_key, other, x_is_a)
                # The same medicine twice: only a rule on a combination product itself applies.
                if same_medicine and not _names_product(match, x, y):
                    continue
                found[rule.id] = match
    if len(found) < 2:
        return list(found.values())
    wider = {
        id(m): (x.narrower_than(m.x_key, content, rx), y.narrower_than(m.y_key, content, ry)) for m in found.values()
    }
    return [
        m
        for m in found.values()
        if not any(
            o is not m
            and (o.x_key, o.y_key) != (m.x_key, m.y_key)
            and m.x_key in wider[id(o)][0]
            # ... and the other side too
            and m.y_key in wider[id(o)][1]
            for o in found.values()
        )
    ]


def _names_product(match: _Match, x: _Component, y: _Component) -> bool:
    products = {c.product.id for c in (x, y) if c.product is not None}
    return any(key[0] == "m" and key[1] in products for key in (match.x_key, match.y_key))


def _top_severity(matches: Sequence[_Match]) -> int:
    return max((m.rule.severity_rank for m in matches), default=0)


def _regimen_options(component: _Component, by_dose: bool) -> list[Regimen | None]:
    if component.regimen or not component.possible_regimens or not by_dose:
        return [component.regimen]
    return list(component.possible_regimens)


def _pair_matches(x: _Component, y: _Component, content: ReviewedContent):
    """The rules for two ingredients, at the most cautious dose where the dose is unknown."""
    by_dose = not (x.from_combination or y.from_combination)
    outcomes = _outcomes(x, y, content, by_dose=by_dose)
    if not any(matches for _, matches in outcomes) and not by_dose:
        # No rule for the ingredient as such: fall back to the most cautious dose-specific answer.
        outcomes = _outcomes(x, y, content, by_dose=True)
    chosen = max(outcomes, key=lambda item: _top_severity(item[1]))[1]
    variants: tuple[DoseVariant, ...] = ()
    if by_dose and len({frozenset(m.rule.id for m in matches) for _, matches in outcomes}) > 1:
        variants = tuple(
            DoseVariant(
                regimen=regimen.slug,
                regimen_label=regimen.patient_label,
                severity=_top(matches).rule.severity if matches else "",
                title=_top(matches).rule.title if matches else _("Not reviewed here"),
            )
            for regimen, matches in outcomes
            if regimen is not None
        )
    return chosen, variants


def _top(matches: Sequence[_Match]) -> _Match:
    return max(matches, key=lambda m: m.rule.severity_rank)


def _outcomes(x: _Component, y: _Component, content: ReviewedContent, *, by_dose: bool) -> list:
    outcomes = []
    for rx, ry in product(_regimen_options(x, by_dose), _regimen_options(y, by_dose)):
        outcomes.append((rx or ry, _matches(x, rx, y, ry, content)))
    return outcomes


def display_name(medication: Medication) -> str:
    """A medicine's name as it reads mid-sentence: generic names in lower case, brands as spelt."""
    return mid_sentence(medication.name)


def _capitalise_sentences(text: str) -> str:
    parts = text.split(". ")
    return ". ".join(part[:1].upper() + part[1:] for part in parts)


def _side_slug(key: Key, component: _Component, content: ReviewedContent) -> str:
    """The medicine an answer comes from: the product when a rule names the product or its own group."""
    product = component.product
    if product is None:
        return component.medication.slug
    if key[0] == "m":
        return product.slug if key[1] == product.id else component.medication.slug
    only_product = key not in content.keys(component.medication, None) and key in content.keys(product, None)
    return product.slug if only_product else component.medication.slug


def _side_name(key: Key, component: _Component) -> str:
    if component.product is not None and key[0] == "m" and key[1] == component.product.id:
        return display_name(component.product)
    return display_name(component.medication)


def rule_finding(
    rule: Interaction,
    *,
    entries: tuple[int, int] = (0, 1),
    ingredients: tuple[str, str] = ("", ""),
    first_name: str,
    second_name: str,
    timing: Timing | None = None,
    dose_variants: tuple[DoseVariant, ...] = (),
    by_mechanism: bool = False,
) -> Finding:
    """What patients see for one rule: the one builder the checker and the admin preview share."""
    names = {"first": first_name, "second": second_name}
    if timing is None and (rule.timing or rule.washout_days is not None):
        timing = Timing(days=rule.washout_days, stop_first=None, then_start=None, text=rule.timing)
    if timing is not None:
        timing = Timing(timing.days, timing.stop_first, timing.then_start, _fill(timing.text, names))
    return Finding(
        kind=FindingKind.INTERACTION,
        entries=entries,
        ingredients=ingredients,
        severity=rule.severity,
        title=_fill(rule.title, names),
        summary=_fill(rule.summary, names),
        action=_fill(rule.action, names),
        urgent_signs=tuple(_fill(line, names) for line in rule.urgent_sign_list),
        timing=timing,
        evidence=rule.evidence,
        mechanism=rule.mechanism,
        rule=rule,
        dose_variants=dose_variants,
        by_mechanism=by_mechanism,
    )


# Content is written with the US numbers; an operator elsewhere sets their own in settings.
_DEFAULT_NUMBERS = {"EMERGENCY_NUMBER": "911", "CRISIS_LINE": "988", "POISON_CONTROL": "1-800-222-1222"}


def _local_numbers_key() -> tuple[str, ...]:
    """The numbers local_numbers() puts in, as part of the key of what is kept filled with them."""
    return tuple(getattr(settings, setting, default) for setting, default in _DEFAULT_NUMBERS.items())


def local_numbers(text: str) -> str:
    for setting, default in _DEFAULT_NUMBERS.items():
        number = getattr(settings, setting, default)
        if number != default and default in text:
            text = re.sub(rf"(?<![\d-]){re.escape(default)}(?![\d-])", number, text)
    return text


def _fill(text: str, names: dict[str, str]) -> str:
    text = local_numbers(text)
    if "{" not in text:
        return text
    return _capitalise_sentences(fill_placeholders(text, **names))


def _interaction_findings(x: _Component, y: _Component, content: ReviewedContent) -> list[Finding]:
    matches, variants = _pair_matches(x, y, content)
    findings = []
    for match in sorted(matches, key=lambda m: (-m.rule.severity_rank, m.rule.slug)):
        a_key, b_key = (match.x_key, match.y_key) if match.x_is_a else (match.y_key, match.x_key)
        a, b = (x, y) if match.x_is_a else (y, x)
        rule = match.rule
        findings.append(
            rule_finding(
                rule,
                entries=(x.entry, y.entry),
                ingredients=(_side_slug(match.x_key, x, content), _side_slug(match.y_key, y, content)),
                first_name=_side_name(a_key, a),
                second_name=_side_name(b_key, b),
                timing=_timing(rule, a, b),
                dose_variants=variants if match is _top(matches) else (),
                by_mechanism=_is_mechanism_rule(rule),
            )
        )
    return findings


def _is_mechanism_rule(rule: Interaction) -> bool:
    sides = (rule.drug_class_a, rule.drug_class_b)
    return all(side is not None and side.kind == "mechanism" for side in sides)


def _timing(rule: Interaction, a: _Component, b: _Component) -> Timing | None:
    if not rule.timing and rule.washout_days is None:
        return None
    stop_first = then_start = None
    if rule.washout_stop == "a":
        stop_first, then_start = a.medication.slug, b.medication.slug
    elif rule.washout_stop == "b":
        stop_first, then_start = b.medication.slug, a.medication.slug
    return Timing(days=rule.washout_days, stop_first=stop_first, then_start=then_start, text=rule.timing)


def _duplicate_ingredient(x: _Component, y: _Component) -> Finding:
    name = x.medication.name
    return Finding(
        kind=FindingKind.DUPLICATE_INGREDIENT,
        entries=(x.entry, y.entry),
        ingredients=(x.medication.slug, y.medication.slug),
        severity=Severity.MAJOR,
        title=_("%(name)s twice") % {"name": name},
        summary=_("Two items on your list contain %(name)s. Taking both could mean taking too much of it.")
        % {"name": name},
        action=_("Check with your pharmacist or provider before you take both. Ask if one should replace the other."),
    )


def _duplicate_class(x: _Component, y: _Component, content: ReviewedContent) -> Finding | None:
    x_groups = {key[1] for key in content.keys(x.medication, None) if key[0] == "c"}
    y_groups = {key[1] for key in content.keys(y.medication, None) if key[0] == "c"}
    shared = [content.classes[g] for g in x_groups & y_groups if content.classes[g].duplicate_severity]
    if not shared:
        return None

    def closeness(drug_class: DrugClass) -> int:
        return min(
            content.ancestors[c.id].get(drug_class.id, 99)
            for c in x.medication.classes.all()
            if c.id in content.ancestors
        )

    drug_class = min(shared, key=lambda c: (closeness(c), c.slug))
    return Finding(
        kind=FindingKind.DUPLICATE_CLASS,
        entries=(x.entry, y.entry),
        ingredients=(x.medication.slug, y.medication.slug),
        severity=drug_class.duplicate_severity,
        title=_("Two %(group)s") % {"group": drug_class.name},
        summary=drug_class.duplicate_warning,
        action=_("Ask your provider if you are meant to take both. Do not stop either one on your own."),
    )


def _components(entry: ResolvedEntry) -> list[_Component]:
    if not entry.ingredients:
        parts, product_of = [entry.medication], None
    else:
        parts, product_of = list(entry.ingredients), entry.medication
    components = []
    for medication in parts:
        regimens = tuple(medication.regimens.all())
        regimen = entry.regimen if entry.regimen is not None and entry.regimen.medication_id == medication.id else None
        components.append(_Component(entry.index, medication, regimen, regimens, product_of))
    return components


def _is_covered(medication: Medication, ingredients: Sequence[Medication], today: date) -> bool:
    if ingredients:
        return all(i.is_covered(today) for i in ingredients)
    return medication.is_covered(today)


def _pair_answer(
    key: tuple, first: list[_Component], second: list[_Component], content: ReviewedContent, today: date
) -> PairAnswer:
    """A pair's answer: its findings at positions 0 and 1, in the order the list shows them (most
    severe first, then by kind), and what is not reviewed."""
    findings, unreviewed = _check_pair(_at(first, 0), _at(second, 1), content, today)
    findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.kind))
    return PairAnswer(key, findings, tuple(unreviewed))


def _placed(finding: Finding, entries: tuple[int, ...]) -> Finding:
    """A kept finding at this list's positions: dataclasses.replace() without its cost (a frozen
    dataclass's __init__ sets each field through object.__setattr__), as a long list places hundreds."""
    placed = object.__new__(Finding)
    placed.__dict__.update(finding.__dict__)
    placed.__dict__["entries"] = entries
    return placed


def _signature(components: list[_Component]) -> tuple:
    return tuple(
        (c.medication.id, c.regimen.id if c.regimen else None, c.product.id if c.product else None) for c in components
    )


def _at(components: list[_Component], entry: int) -> list[_Component]:
    return [replace(c, entry=entry) for c in components]


def _check_pair(
    first: list[_Component], second: list[_Component], content: ReviewedContent, today: date
) -> tuple[list[Finding], list[tuple[str, str]]]:
    findings: list[Finding] = []
    unreviewed: list[tuple[str, str]] = []
    for x, y in product(first, second):
        found = _interaction_findings(x, y, content)
        if x.medication.id == y.medication.id:
            # A rule on the product itself speaks for it (Suboxone's naloxone is not a second Narcan dose).
            if not found:
                found.append(_duplicate_ingredient(x, y))
        else:
            duplicate = _duplicate_class(x, y, content)
            if duplicate is not None:
                found.append(duplicate)
        findings.extend(found)
        if not found and not (x.medication.is_covered(today) and y.medication.is_covered(today)):
            unreviewed.append((x.medication.slug, y.medication.slug))
    # One rule reached through two ingredients of a combination product is one finding.
    unique: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.kind, finding.rule.pk if finding.rule is not None else finding.ingredients)
        unique.setdefault(key, finding)
    findings = list(unique.values())
    if any(f.severity != Severity.NONE for f in findings):
        # Never a reassuring answer beside a warning for the same pair.
        findings = [f for f in findings if f.severity != Severity.NONE]
    return findings, unreviewed


def _possible_doses(component: _Component) -> list[Regimen | None]:
    """Every dose an entry could be at when its dose is unknown; a combination product's is fixed."""
    return _regimen_options(component, by_dose=not component.from_combination)


def _entry_groups(components: list[_Component], content: ReviewedContent) -> set[int]:
    """Every group an entry could belong to: at any of its possible doses where the dose is unknown."""
    groups: set[int] = set()
    for component in components:
        for regimen in _possible_doses(component):
            groups.update(key[1] for key in component.keys(content, regimen) if key[0] == "c")
    return groups


def _list_findings(
    resolved: list[ResolvedEntry], profiles: dict[int, _EntryProfile], content: ReviewedContent
) -> list[Finding]:
    if not content.list_rules or len(resolved) < 2:
        return []
    groups = {entry.index: profiles[entry.index].groups for entry in resolved}
    medications = {entry.index: entry.medication for entry in resolved}
    slugs = {entry.index: entry.medication.slug for entry in resolved}
    numbers = _local_numbers_key()
    findings = []
    for rule in content.list_rules:
        group, anchor = rule.drug_class_id, rule.with_class_id
        members = _distinct([i for i, g in groups.items() if group in g], slugs)
        if anchor is not None:
            anchors = _distinct([i for i, g in groups.items() if anchor in g], slugs)
            counted = [i for i in members if i not in anchors]
            if not anchors or len(counted) < rule.min_count:
                continue
            involved = sorted({*anchors, *counted})
        else:
            if len(members) < rule.min_count:
                continue
            involved = sorted(members)
        # Worked out once per content version for the same rule and medicines, then placed here.
        finding = content.remember(
            ("list", rule.id, tuple(medications[i].id for i in involved), numbers),
            lambda rule=rule, involved=involved: _list_finding(rule, [medications[i] for i in involved]),
        )
        findings.append(_placed(finding, tuple(involved)))
    return findings


def _list_finding(rule: ListRule, medications: list[Medication]) -> Finding:
    listed = {"medicines": _join_names([display_name(m) for m in medications])}
    return Finding(
        kind=FindingKind.WHOLE_LIST,
        entries=(),
        ingredients=tuple(m.slug for m in medications),
        severity=rule.severity,
        title=_fill(rule.title, listed),
        summary=_fill(rule.summary, listed),
        action=_fill(rule.action, listed),
        urgent_signs=tuple(_fill(line, listed) for line in rule.urgent_sign_list),
        evidence=rule.evidence,
        mechanism=rule.mechanism,
        rule=rule,
        by_mechanism=True,
    )


def _distinct(indexes: list[int], slugs: dict[int, str]) -> list[int]:
    """The same medicine twice on a list counts once toward a whole-list rule."""
    seen: dict[str, int] = {}
    for index in indexes:
        seen.setdefault(slugs[index], index)
    return sorted(seen.values())


def _join_names(names: list[str]) -> str:
    if len(names) <= 2:
        return _(" and ").join(names)
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def _message_keys(components: list[_Component], entry: ResolvedEntry, content: ReviewedContent) -> frozenset:
    """Every side a standing message can target for an entry; an unknown dose gets every dose form's."""
    keys: set[Key] = set(content.keys(entry.medication, entry.regimen))
    for component in components:
        for regimen in _possible_doses(component):
            keys |= component.keys(content, regimen)
    return frozenset(keys)


def _standing_messages(
    resolved: list[ResolvedEntry], profiles: dict[int, _EntryProfile], content: ReviewedContent
) -> list[SafetyMessage]:
    """Messages for what is on the list, once each, saying which entries they are for."""
    applies: dict[int, tuple[StandingMessage, list[int]]] = {}
    for entry in resolved:
        for message in profiles[entry.index].messages:
            applies.setdefault(message.id, (message, []))[1].append(entry.index)
    ordered = sorted(applies.values(), key=lambda item: (item[0].position, item[0].slug))
    numbers = _local_numbers_key()
    texts = {
        m.id: content.remember(("message", m.id, numbers), lambda m=m: (local_numbers(m.text), local_numbers(m.more)))
        for m, _entries in ordered
    }
    return [SafetyMessage(m.slug, m.title, *texts[m.id], tuple(sorted(set(entries)))) for m, entries in ordered]


@dataclass(frozen=True)
class _EntryProfile:
    """What the check needs about one medicine at one dose, worked out once per content version."""

    regimen: Regimen | None
    ingredients: tuple[Medication, ...]
    covered: bool
    components: list[_Component]  # at position 0
    # The same for every entry of the same medicines and doses on the same day, this content version:
    # pairs' answers are kept under two of them.
    number: int
    groups: frozenset
    messages: tuple[StandingMessage, ...]


def _entry_profile(medication: Medication, regimen_slug: str | None, content: ReviewedContent, today: date):
    ingredients = tuple(medication.ingredients.all())
    regimen = _find_regimen(regimen_slug, medication, ingredients)
    entry = ResolvedEntry(0, medication, regimen, _is_covered(medication, ingredients, today), ingredients)
    components = _components(entry)
    keys = _message_keys(components, entry, content)
    messages = sorted(
        {m.id: m for key in keys for m in content.messages.get(key, ())}.values(), key=lambda m: (m.position, m.slug)
    )
    return _EntryProfile(
        regimen=regimen,
        ingredients=ingredients,
        covered=entry.covered,
        components=components,
        number=content.number((_signature(components), today)),
        groups=frozenset(_entry_groups(components, content)),
        messages=tuple(messages),
    )


# --- the check ----------------------------------------------------------------------------------


def check(
    entries: Sequence[CheckEntry], *, today: date | None = None, content: ReviewedContent | None = None
) -> CheckResult:
    """Findings for every pair and for the whole list, most severe first, plus the standing messages.

    `content` is the published content by default; a revision's preview passes the content as it
    would be once approved.
    """
    today = today or date.today()
    content = content or reviewed_content()
    medications = content.medications(e.slug for e in entries)
    resolved: list[ResolvedEntry] = []
    unknown: list[int] = []
    profiles: dict[int, _EntryProfile] = {}
    for index, entry in enumerate(entries):
        medication = medications.get(entry.slug)
        if medication is None:
            unknown.append(index)
            continue
        profile = content.remember(
            ("entry", medication.id, entry.regimen, today),
            lambda m=medication, r=entry.regimen: _entry_profile(m, r, content, today),
        )
        profiles[index] = profile
        resolved.append(ResolvedEntry(index, medication, profile.regimen, profile.covered, profile.ingredients))

    result = CheckResult(entries=resolved, unknown=unknown)
    if not resolved:
        return result
    pairs, kept = result.pairs, content._pairs
    for first, second in combinations(resolved, 2):
        a, b = profiles[first.index], profiles[second.index]
        # Worked out once per content version for the same medicines and doses, then placed here.
        key = ("pair", a.number, b.number)
        answer = kept.get(key)
        if answer is None:
            answer = content.remember(
                key, lambda a=a, b=b, key=key: _pair_answer(key, a.components, b.components, content, today)
            )
        pairs.append(PairResult((first.index, second.index), answer.status, answer.unreviewed, answer.verdict, answer))
    result.list_findings = sorted(_list_findings(resolved, profiles, content), key=lambda f: f.entries)
    result.safety_messages = _standing_messages(resolved, profiles, content)
    return result


def _find_regimen(slug: str | None, medication: Medication, ingredients: Sequence[Medication]) -> Regimen | None:
    if not slug:
        return None
    for candidate in (medication, *ingredients):
        for regimen in candidate.regimens.all():
            if regimen.slug == slug:
                return regimen
    return None
