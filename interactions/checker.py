"""Check a medication list against the reviewed rules.

`check()` looks at every pair of entries, through the ingredients of combination products, and
returns findings most severe first. It never says "no interaction" for a pair our reviewed content
does not cover: such pairs come back as NOT_REVIEWED. It runs a fixed number of queries whatever
the list size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from interactions import content_version
from interactions.medlist import is_slug
from interactions.models import (
    SEVERITY_RANK,
    DrugClass,
    Interaction,
    Medication,
    Regimen,
    Severity,
)

# How specific a matched side is: a regimen beats a medication beats its class beats a parent class.
SPECIFICITY_REGIMEN = 1000
SPECIFICITY_MEDICATION = 900
SPECIFICITY_CLASS = 500
SPECIFICITY_PER_CLASS_LEVEL = 10

NALTREXONE_SLUG = "naltrexone"


class FindingKind:
    INTERACTION = "interaction"
    DUPLICATE_INGREDIENT = "duplicate-ingredient"
    DUPLICATE_CLASS = "duplicate-class"


class PairStatus:
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


@dataclass(frozen=True)
class Finding:
    kind: str
    entries: tuple[int, int]
    ingredients: tuple[str, str]
    severity: str
    title: str
    summary: str
    action: str
    urgent_signs: tuple[str, ...] = ()
    timing: Timing | None = None
    evidence: str = ""
    mechanism: str = ""
    rule: Interaction | None = None
    dose_variants: tuple[DoseVariant, ...] = ()

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    @property
    def articles(self) -> list:
        return list(self.rule.published_articles) if self.rule is not None else []

    @property
    def references(self) -> list:
        return list(self.rule.references.all()) if self.rule is not None else []


@dataclass(frozen=True)
class PairResult:
    entries: tuple[int, int]
    status: str
    # Ingredient pairs our reviewed content does not cover, even when other ingredients have findings.
    unreviewed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SafetyMessage:
    key: str
    title: str
    text: str


@dataclass(frozen=True)
class ResolvedEntry:
    index: int
    medication: Medication
    regimen: Regimen | None
    covered: bool
    ingredients: tuple[Medication, ...]


@dataclass
class CheckResult:
    entries: list[ResolvedEntry]
    unknown: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    pairs: list[PairResult] = field(default_factory=list)
    safety_messages: list[SafetyMessage] = field(default_factory=list)

    @property
    def not_reviewed_pairs(self) -> list[PairResult]:
        return [p for p in self.pairs if p.unreviewed]

    def count(self, *severities: str) -> int:
        return sum(1 for f in self.findings if f.severity in severities)


# --- loading ---------------------------------------------------------------------------------


def _load_medications(slugs: Iterable[str]) -> dict[str, Medication]:
    return {
        med.slug: med
        for med in Medication.objects.filter(slug__in={s for s in slugs if is_slug(s)}).prefetch_related(
            "classes", "regimens", "ingredients__classes", "ingredients__regimens"
        )
    }


def _load_rules() -> list[Interaction]:
    from education.models import Article

    return list(
        Interaction.objects.published()
        .select_related("medication_a", "medication_b")
        .prefetch_related(
            "references",
            Prefetch(
                "articles",
                queryset=Article.objects.published().only("slug", "title", "topic"),
                to_attr="published_articles",
            ),
        )
    )


class _ClassTree:
    def __init__(self) -> None:
        self.classes = {c.id: c for c in DrugClass.objects.all()}
        self._lineages = {class_id: self._walk(class_id) for class_id in self.classes}
        # (medication id, regimen id) -> rule sides it matches; valid for this content version.
        self.side_cache: dict[tuple, dict[tuple, int]] = {}

    def lineage(self, class_id: int) -> list[tuple[int, int]]:
        """(class id, distance) from a class up to its root."""
        return self._lineages.get(class_id) or self._walk(class_id)

    def _walk(self, class_id: int) -> list[tuple[int, int]]:
        seen, result, distance, current = set(), [], 0, class_id
        while current is not None and current not in seen and current in self.classes:
            seen.add(current)
            result.append((current, distance))
            current = self.classes[current].parent_id
            distance += 1
        return result


# --- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Component:
    """One ingredient of one entry, with the regimen it was given (None: unknown or not relevant)."""

    entry: int
    medication: Medication
    regimen: Regimen | None
    possible_regimens: tuple[Regimen, ...]
    from_combination: bool


def _side_key(rule: Interaction, side: str) -> tuple:
    med_id = getattr(rule, f"medication_{side}_id")
    if med_id is not None:
        return ("m", med_id, getattr(rule, f"regimen_{side}_id"))
    return ("c", getattr(rule, f"drug_class_{side}_id"))


def _side_matches(medication: Medication, regimen: Regimen | None, tree: _ClassTree) -> dict[tuple, int]:
    key = (medication.id, regimen.id if regimen else None)
    cached = tree.side_cache.get(key)
    if cached is None:
        cached = tree.side_cache[key] = _compute_side_matches(medication, regimen, tree)
    return cached


def _compute_side_matches(medication: Medication, regimen: Regimen | None, tree: _ClassTree) -> dict[tuple, int]:
    matches = {("m", medication.id, None): SPECIFICITY_MEDICATION}
    if regimen is not None:
        matches[("m", medication.id, regimen.id)] = SPECIFICITY_REGIMEN
    for drug_class in medication.classes.all():
        for class_id, distance in tree.lineage(drug_class.id):
            score = SPECIFICITY_CLASS - SPECIFICITY_PER_CLASS_LEVEL * distance
            key = ("c", class_id)
            matches[key] = max(matches.get(key, 0), score)
    return matches


class _RuleIndex:
    def __init__(self, rules: Sequence[Interaction]) -> None:
        # side key -> (rule, the other side's key, whether the matched side is side a)
        self.by_side: dict[tuple, list[tuple[Interaction, tuple, bool]]] = defaultdict(list)
        for rule in rules:
            a, b = _side_key(rule, "a"), _side_key(rule, "b")
            self.by_side[a].append((rule, b, True))
            if a != b:
                self.by_side[b].append((rule, a, False))

    def best(self, x: dict[tuple, int], y: dict[tuple, int]) -> tuple[Interaction, bool] | None:
        """The most specific rule between two sides; ties go to the more severe. Also: is x side a?"""
        best_rank, best = None, None
        for key, x_score in x.items():
            for rule, other_key, x_is_a in self.by_side.get(key, ()):
                y_score = y.get(other_key)
                if y_score is None:
                    continue
                rank = (x_score + y_score, rule.severity_rank)
                if best_rank is None or rank > best_rank:
                    best_rank, best = rank, (rule, x_is_a)
        return best


def _components(entry: ResolvedEntry) -> list[_Component]:
    parts = list(entry.ingredients) or [entry.medication]
    components = []
    for medication in parts:
        regimens = tuple(medication.regimens.all())
        regimen = entry.regimen if entry.regimen is not None and entry.regimen.medication_id == medication.id else None
        components.append(_Component(entry.index, medication, regimen, regimens, bool(entry.ingredients)))
    return components


def _interaction_finding(x: _Component, y: _Component, rules: _RuleIndex, tree: _ClassTree) -> Finding | None:
    """The finding between two ingredients, trying every regimen where the dose is unknown."""
    outcomes = _outcomes(x, y, rules, tree, by_dose=not (x.from_combination or y.from_combination))
    found = [(regimen, match) for regimen, match in outcomes if match is not None]
    if not found and (x.from_combination or y.from_combination):
        # No rule for the ingredient as such: fall back to the most cautious dose-specific answer.
        outcomes = _outcomes(x, y, rules, tree, by_dose=True)
        found = [(regimen, match) for regimen, match in outcomes if match is not None]
    if not found:
        return None
    _regimen, (rule, x_is_a) = max(found, key=lambda item: item[1][0].severity_rank)
    variants: tuple[DoseVariant, ...] = ()
    dose_matters = len({m[0].pk if m else None for _, m in outcomes}) > 1
    if dose_matters and not (x.from_combination or y.from_combination):
        variants = tuple(
            DoseVariant(
                regimen=regimen.slug,
                regimen_label=regimen.patient_label,
                severity=match[0].severity if match else "",
                title=match[0].title if match else _("Not reviewed here"),
            )
            for regimen, match in outcomes
            if regimen is not None
        )
    a, b = (x, y) if x_is_a else (y, x)
    return Finding(
        kind=FindingKind.INTERACTION,
        entries=(x.entry, y.entry),
        ingredients=(x.medication.slug, y.medication.slug),
        severity=rule.severity,
        title=rule.title,
        summary=rule.summary,
        action=rule.action,
        urgent_signs=tuple(rule.urgent_sign_list),
        timing=_timing(rule, a, b),
        evidence=rule.evidence,
        mechanism=rule.mechanism,
        rule=rule,
        dose_variants=variants,
    )


def _outcomes(x: _Component, y: _Component, rules: _RuleIndex, tree: _ClassTree, *, by_dose: bool) -> list:
    """The best rule for each dose the two ingredients could be at (one try when the dose is known)."""

    def options(component: _Component) -> list[Regimen | None]:
        if component.regimen or not component.possible_regimens or not by_dose:
            return [component.regimen]
        return list(component.possible_regimens)

    outcomes = []
    for x_regimen, y_regimen in product(options(x), options(y)):
        match = rules.best(_side_matches(x.medication, x_regimen, tree), _side_matches(y.medication, y_regimen, tree))
        outcomes.append((x_regimen or y_regimen, match))
    return outcomes


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


def _duplicate_class(x: _Component, y: _Component, tree: _ClassTree) -> Finding | None:
    x_classes = _side_matches(x.medication, None, tree)
    shared = [
        (SPECIFICITY_CLASS - score, tree.classes[key[1]])
        for key, score in _side_matches(y.medication, None, tree).items()
        if key[0] == "c" and key in x_classes and tree.classes[key[1]].duplicate_severity
    ]
    if not shared:
        return None
    drug_class = min(shared, key=lambda item: item[0])[1]
    return Finding(
        kind=FindingKind.DUPLICATE_CLASS,
        entries=(x.entry, y.entry),
        ingredients=(x.medication.slug, y.medication.slug),
        severity=drug_class.duplicate_severity,
        title=_("Two %(group)s") % {"group": drug_class.name},
        summary=drug_class.duplicate_warning,
        action=_("Ask your provider if you are meant to take both. Do not stop either one on your own."),
    )


def _is_covered(medication: Medication, ingredients: Sequence[Medication]) -> bool:
    if ingredients:
        return all(i.interactions_reviewed for i in ingredients)
    return medication.interactions_reviewed


def safety_messages() -> list[SafetyMessage]:
    """What everyone taking naltrexone, at any dose, should know."""
    numbers = {"emergency": settings.EMERGENCY_NUMBER, "crisis": settings.CRISIS_LINE}
    return [
        SafetyMessage(
            "overdose-after-stopping",
            _("Higher overdose risk after a missed or stopped dose"),
            _(
                "Naltrexone lowers your tolerance to opioids. If you stop it, miss doses, or come to the end "
                "of a shot, a dose of opioids you used to take can now kill you. Keep naloxone (Narcan) with "
                "you. If someone will not wake up or is not breathing well, give naloxone and call %(emergency)s."
            )
            % numbers,
        ),
        SafetyMessage(
            "do-not-override",
            _("Never try to push through the block"),
            _(
                "Taking large amounts of opioids to get past naltrexone can cause coma or death. Tell every "
                "provider, dentist and emergency team that you take naltrexone."
            ),
        ),
        SafetyMessage(
            "mood",
            _("Tell your provider about low mood"),
            _(
                "Tell your provider if you feel down, hopeless or stop enjoying things. If you have thoughts "
                "of suicide, call or text %(crisis)s (Suicide & Crisis Lifeline) now."
            )
            % numbers,
        ),
        SafetyMessage(
            "liver",
            _("Liver warning signs"),
            _(
                "Get care right away for pain in the upper right of your belly, dark urine, pale stools, "
                "yellow skin or eyes, or unusual tiredness."
            ),
        ),
    ]


# --- the check ----------------------------------------------------------------------------------


def check(entries: Sequence[CheckEntry]) -> CheckResult:
    """Findings for every pair of entries, most severe first, plus the standing safety messages."""
    medications = _load_medications(e.slug for e in entries)
    resolved: list[ResolvedEntry] = []
    unknown: list[int] = []
    for index, entry in enumerate(entries):
        medication = medications.get(entry.slug)
        if medication is None:
            unknown.append(index)
            continue
        ingredients = tuple(medication.ingredients.all())
        regimen = _find_regimen(entry.regimen, medication, ingredients)
        resolved.append(ResolvedEntry(index, medication, regimen, _is_covered(medication, ingredients), ingredients))

    result = CheckResult(entries=resolved, unknown=unknown)
    if len(resolved) >= 2:
        tree, rules = _reviewed_content()
        parts = {entry.index: _components(entry) for entry in resolved}
        for first, second in combinations(resolved, 2):
            pair_findings, unreviewed = _check_pair(parts[first.index], parts[second.index], rules, tree)
            result.findings.extend(pair_findings)
            if pair_findings:
                status = PairStatus.FINDING
            elif unreviewed:
                status = PairStatus.NOT_REVIEWED
            else:
                status = PairStatus.NO_KNOWN_INTERACTION
            result.pairs.append(PairResult((first.index, second.index), status, tuple(unreviewed)))
    result.findings.sort(key=lambda f: (-f.severity_rank, f.entries, f.kind))
    if any(NALTREXONE_SLUG in {m.slug for m in (e.ingredients or (e.medication,))} for e in resolved):
        result.safety_messages = safety_messages()
    return result


_memo: tuple[str, tuple[_ClassTree, _RuleIndex]] | None = None


def _reviewed_content() -> tuple[_ClassTree, _RuleIndex]:
    """The class tree and the published rules for the current content version.

    Kept in this process (no unpickling per check) and in the shared cache (no rebuild per process).
    """
    global _memo
    version = content_version.current()
    if _memo is None or _memo[0] != version:
        _memo = (
            version,
            content_version.cached("checker", version, lambda: (_ClassTree(), _RuleIndex(_load_rules()))),
        )
    return _memo[1]


def _find_regimen(slug: str | None, medication: Medication, ingredients: Sequence[Medication]) -> Regimen | None:
    if not slug:
        return None
    for candidate in (medication, *ingredients):
        for regimen in candidate.regimens.all():
            if regimen.slug == slug:
                return regimen
    return None


def _check_pair(
    first: list[_Component], second: list[_Component], rules: _RuleIndex, tree: _ClassTree
) -> tuple[list[Finding], list[tuple[str, str]]]:
    findings: list[Finding] = []
    unreviewed: list[tuple[str, str]] = []
    for x, y in product(first, second):
        if x.medication.id == y.medication.id:
            findings.append(_duplicate_ingredient(x, y))
            continue
        finding = _interaction_finding(x, y, rules, tree)
        if finding is None:
            finding = _duplicate_class(x, y, tree)
        if finding is not None:
            findings.append(finding)
        elif not (x.medication.interactions_reviewed and y.medication.interactions_reviewed):
            unreviewed.append((x.medication.slug, y.medication.slug))
    return findings, unreviewed
