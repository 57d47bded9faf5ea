"""Turn a person's list and its check into what the check page and the print view show."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_noop, ngettext
from django.utils.translation import gettext as _

from interactions.checker import (
    SEVERITY_RANKS_DOWN,
    CheckEntry,
    CheckResult,
    Finding,
    FindingKind,
    PairResult,
    PairStatus,
    ReviewedContent,
    check,
    reviewed_content,
)
from interactions.medlist import MedList
from interactions.models import SEVERITY_RANK, Severity, mid_sentence

SEVERITY_ICONS = {
    Severity.CONTRAINDICATED: "✖",
    Severity.MAJOR: "⚠",
    Severity.MODERATE: "⚠",
    Severity.MINOR: "ℹ",
    Severity.NONE: "✓",
}


# Named tuples, not dataclasses: a list row is kept under its entry's view ({% kept entry %}), and a
# tuple hashes without a Python call per field, once per row a page.
class RegimenOption(NamedTuple):
    slug: str
    label: str
    selected: bool


class EntryView(NamedTuple):
    slug: str
    name: str
    generic_name: str
    regimen_label: str
    regimen_options: tuple[RegimenOption, ...]
    covered: bool
    # Alcohol, cannabis, kratom: listed apart from medicines on the provider sheet.
    is_substance: bool = False


# Not frozen: a long list makes hundreds a page, and a frozen dataclass sets each field the slow way.
@dataclass(slots=True)
class FindingView:
    finding: Finding
    pair_label: str
    icon: str
    dom_id: str
    # Where the answer comes from when it is an ingredient ("Norco contains hydrocodone").
    via: str = ""
    # The pair's lesser answers, folded inside its verdict.
    also: tuple[FindingView, ...] = ()
    # One short question for the provider sheet; empty for "no interaction expected".
    question: str = ""


def dom_id(position: str, also: int = 0) -> SafeString:
    """A card's element id, from its place on the page (the `also` one folded inside it, from 1).
    Made of numbers, so the template has nothing to escape: a card kept with a slot for its place
    (finding_cards) reads the same."""
    return mark_safe(f"finding-{position}-also-{also}" if also else f"finding-{position}")  # noqa: S308


@dataclass(slots=True)
class Card:
    """One finding card: a pair's answer (its most severe finding, the rest folded inside), or the
    whole-list findings about the same entries."""

    label: str
    pair: PairResult | None = None
    list_findings: tuple[Finding, ...] = ()
    # What the card says besides its place and its label: the same for every list that has it. A
    # pair's answer is kept per medicines and doses, and so is everything its card shows (the
    # "contains" line names the pair's own medicines); whole-list findings are their content.
    content_key: tuple = field(init=False)

    def __post_init__(self) -> None:
        if self.pair is not None:
            self.content_key = self.pair.answer.key
        else:
            self.content_key = tuple(f.content_key for f in self.list_findings)

    def view(self, words: _PageWords, position: str, label: str | None = None) -> FindingView:
        """The card's view (its first finding, the rest in `also`) at `position` on the page."""
        top, *rest = self.pair.findings if self.pair is not None else self.list_findings
        label = self.label if label is None else label
        also = tuple(words.view(f, label, dom_id(position, n)) for n, f in enumerate(rest, start=1))
        return words.view(top, label, dom_id(position), also)


@dataclass(frozen=True)
class Report:
    entries: list[EntryView]
    # The finding cards in page order: most severe first, pairs in list order, then whole-list findings.
    cards: list[Card]
    not_reviewed: list[str]
    no_known: list[str]
    safety_messages: list
    summary: str
    # Questions beyond the one each finding brings (which dose, naloxone at home, anything to change).
    more_questions: list[str]
    # The reviewed content the findings come from: where their cards' markup is kept.
    content: ReviewedContent | None = None
    words: _PageWords | None = field(default=None, repr=False, compare=False)

    @cached_property
    def findings(self) -> list[FindingView]:
        """Each card's view, in page order. The check page's cards are filled from kept markup
        without them (finding_cards); the provider sheet's list of questions reads them."""
        return [card.view(self.words, str(position)) for position, card in enumerate(self.cards, start=1)]

    @property
    def medicines(self) -> list[EntryView]:
        return [e for e in self.entries if not e.is_substance]

    @property
    def substances(self) -> list[EntryView]:
        return [e for e in self.entries if e.is_substance]

    @property
    def concerns(self) -> list[FindingView]:
        """The findings that need a word with the provider: all but 'no interaction expected'."""
        return [f for f in self.findings if f.finding.severity != Severity.NONE]

    @property
    def reassured(self) -> list[FindingView]:
        return [f for f in self.findings if f.finding.severity == Severity.NONE]


def build_report(medlist: MedList, *, content: ReviewedContent | None = None) -> Report:
    content = content or reviewed_content()
    result = check([CheckEntry(e.slug, e.regimen) for e in medlist.entries], content=content)
    labels = {index: e.label for index, e in enumerate(medlist.entries)}
    names = {e.index: _entry_name(e, labels.get(e.index, "")) for e in result.entries}
    entries = [_entry_view(e, _list_name(e, labels.get(e.index, "")), content) for e in result.entries]
    words = _PageWords({e.index: e.medication for e in result.entries}, content)
    pairs = _PairsRead(result, names, words.with_template)
    return Report(
        entries=entries,
        cards=pairs.cards(),
        not_reviewed=pairs.not_reviewed,
        no_known=pairs.no_known,
        safety_messages=result.safety_messages,
        summary=summary_line(pairs.verdicts, len(pairs.not_reviewed), len(entries)),
        more_questions=more_questions(result, pairs.dose_questions),
        content=content,
        words=words,
    )


class _PairsRead:
    """What the report takes from the pairs, read in one pass: a long list has hundreds of pairs.

    The cards come one per pair of entries with findings, plus one per set of entries with
    whole-list findings; most severe first, and at the same severity pairs in list order before
    whole-list cards."""

    def __init__(self, result: CheckResult, names: dict[int, str], with_template: str) -> None:
        self.names = names
        self.not_reviewed: list[str] = []
        self.no_known: list[str] = []
        self._cards: dict[int, list[Card]] = {rank: [] for rank in SEVERITY_RANKS_DOWN}
        # One verdict per pair and per whole-list finding: folded answers are not counted twice.
        self.verdicts: dict[str, int] = dict.fromkeys(Severity.values, 0)
        # Whose dose to ask about: for each pair whose answer depends on it, by severity.
        self._dose_names: dict[int, list[str]] = {rank: [] for rank in SEVERITY_RANKS_DOWN}
        for pair in result.pairs:
            first, second = pair.entries
            label = with_template % {"first": names[first], "second": names[second]}
            if pair.unreviewed:
                self.not_reviewed.append(label)
            severity = pair.severity
            if severity is not None:
                self.verdicts[severity] += 1
                self._cards[SEVERITY_RANK[severity]].append(Card(label, pair))
                for rank in pair.answer.dose_question_ranks:
                    self._dose_names[rank].append(names[first])
            elif pair.status == PairStatus.NO_KNOWN_INTERACTION:
                self.no_known.append(label)
        self._read_list_findings(result.list_findings)

    def _read_list_findings(self, findings: list[Finding]) -> None:
        # In list order: most severe first, the same entries' on one card.
        about: dict[tuple[int, ...], list[Finding]] = {}
        for finding in sorted(findings, key=lambda f: -f.severity_rank):
            self.verdicts[finding.severity] += 1
            about.setdefault(finding.entries, []).append(finding)
        for entries, found in about.items():
            label = _list_label([self.names[i] for i in entries])
            self._cards[found[0].severity_rank].append(Card(label, list_findings=tuple(found)))

    def cards(self) -> list[Card]:
        return [card for bucket in self._cards.values() for card in bucket]

    @property
    def dose_questions(self) -> list[str]:
        return [name for bucket in self._dose_names.values() for name in bucket]


class _PageWords:
    """The words a page's finding views share, translated once a page rather than once a finding:
    a long list has hundreds of findings, from a few dozen pairs and ingredients."""

    def __init__(self, medications: dict, content: ReviewedContent | None = None) -> None:
        self.medications = medications
        self.content = content
        self.language = get_language()
        self.questions = _questions()
        self.with_template = _("%(first)s with %(second)s")
        self._contains: dict[tuple[int, str], str] = {}

    def view(self, finding: Finding, label: str, dom_id: str, also: tuple = ()) -> FindingView:
        via = "" if finding.kind == FindingKind.WHOLE_LIST else self.via(finding)
        question = self.questions.get(finding.severity, "")
        return FindingView(finding, label, SEVERITY_ICONS[finding.severity], dom_id, via, also, question)

    def via(self, finding: Finding) -> str:
        """Say which ingredient an answer comes from when a combination product is involved."""
        parts = []
        for index, ingredient in zip(finding.entries, finding.ingredients, strict=True):
            product = self.medications[index]
            if product.slug != ingredient:
                part = self._contains.get((index, ingredient))
                if part is None:
                    part = self._contains[(index, ingredient)] = self._contains_kept(product, ingredient)
                parts.append(part)
        return "; ".join(parts)

    def _contains_kept(self, product, ingredient: str) -> str:
        # Made from content alone, so kept with it: reaching a product's ingredients costs more than the page.
        if self.content is None:
            return self._contains_text(product, ingredient)
        key = ("contains", product.id, ingredient, self.language)
        return self.content.remember(key, lambda: self._contains_text(product, ingredient))

    @staticmethod
    def _contains_text(product, ingredient: str) -> str:
        ingredient_name = next((i.name for i in product.ingredients.all() if i.slug == ingredient), ingredient)
        return _("%(product)s contains %(ingredient)s") % {
            "product": product.name,
            "ingredient": mid_sentence(ingredient_name),
        }


def _list_label(names: list[str]) -> str:
    if len(names) == 2:
        return _("%(first)s with %(second)s") % {"first": names[0], "second": names[1]}
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def _entry_name(entry, label: str = "") -> str:
    """'Vivitrol (naltrexone, monthly injection)' when added by brand; 'Naltrexone (low-dose)' otherwise."""
    regimen = entry.regimen.name.lower() if entry.regimen is not None else ""
    if label and label.casefold() != entry.medication.name.casefold():
        generic = mid_sentence(entry.medication.name)
        return f"{label} ({generic}, {regimen})" if regimen else f"{label} ({generic})"
    if regimen:
        return f"{entry.medication.name} ({regimen})"
    return entry.medication.name


def _list_name(entry, label: str) -> str:
    """The name on the list itself (its dose is shown by the dose picker beside it)."""
    if label and label.casefold() != entry.medication.name.casefold():
        return f"{label} ({mid_sentence(entry.medication.name)})"
    return entry.medication.name


def _entry_view(entry, name: str, content: ReviewedContent) -> EntryView:
    chosen = entry.regimen.id if entry.regimen is not None else None

    def options() -> tuple[RegimenOption, ...]:
        return tuple(RegimenOption(r.slug, r.patient_label, chosen == r.id) for r in entry.medication.regimens.all())

    return EntryView(
        slug=entry.medication.slug,
        name=name,
        generic_name=entry.medication.name,
        regimen_label=entry.regimen.patient_label if entry.regimen else "",
        # The dose picker's options, made from content alone: kept with it (a long list has dozens).
        regimen_options=content.remember(("regimen-options", entry.medication.id, chosen), options),
        covered=entry.covered,
        is_substance=entry.medication.is_substance,
    )


def summary_line(verdicts: dict[str, int], unreviewed: int, medicine_count: int) -> str:
    """A short, calm line so an anxious reader knows where they stand: `verdicts` counts the
    pairs' verdicts and whole-list findings by severity, `unreviewed` the pairs not reviewed."""
    if medicine_count == 0:
        return _("Your list is empty. Add the medicines you take to check them.")
    if medicine_count == 1:
        return _("Add another medicine to check how they mix.")
    avoid, serious = verdicts[Severity.CONTRAINDICATED], verdicts[Severity.MAJOR]
    caution, minor = verdicts[Severity.MODERATE], verdicts[Severity.MINOR]
    parts = [
        ngettext("%(n)d pair to avoid combining", "%(n)d pairs to avoid combining", avoid) % {"n": avoid}
        if avoid
        else "",
        ngettext("%(n)d serious interaction", "%(n)d serious interactions", serious) % {"n": serious}
        if serious
        else "",
        ngettext("%(n)d to use with caution", "%(n)d to use with caution", caution) % {"n": caution} if caution else "",
        ngettext("%(n)d minor", "%(n)d minor", minor) % {"n": minor} if minor else "",
    ]
    parts = [part for part in parts if part]
    if unreviewed:
        parts.append(
            ngettext("%(n)d pair to ask your pharmacist about", "%(n)d pairs to ask your pharmacist about", unreviewed)
            % {"n": unreviewed}
        )
    if not parts:
        return _("We found no known interactions between these medicines in our reviewed content.")
    return _("We found: %(parts)s.") % {"parts": ", ".join(parts)}


QUESTIONS = {
    Severity.CONTRAINDICATED: gettext_noop("Should I stop one, or switch?"),
    Severity.MAJOR: gettext_noop("Is this safe for me? What should I watch for?"),
    Severity.MODERATE: gettext_noop("Do I need a change or a check-up?"),
    Severity.MINOR: gettext_noop("Do I need to do anything?"),
}


def _questions() -> dict[str, str]:
    """Each severity's question in the current language (none for 'no interaction expected')."""
    return {severity: _(text) for severity, text in QUESTIONS.items()}


def question_for(finding: Finding) -> str:
    """What to ask the provider about one finding, in a few plain words (the sheet has one line for it)."""
    return _questions().get(finding.severity, "")


def more_questions(result: CheckResult, dose_questions: list[str]) -> list[str]:
    """The questions for the appointment that no single finding asks; `dose_questions` names the
    entries whose answers depend on a dose the list does not give, most severe first."""
    asked = [_("Which dose of %(name)s am I taking?") % {"name": name} for name in dose_questions]
    if any("naloxone" in f"{m.text} {m.more}".lower() for m in result.safety_messages):
        asked.append(_("Should I keep naloxone (Narcan) at home, and does my family know how to use it?"))
    if result.entries:
        asked.append(_("Is there anything on this list I should stop, change or take at a different time?"))
    return list(dict.fromkeys(asked))
