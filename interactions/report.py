"""Turn a person's list and its check into what the check page and the print view show."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from interactions.checker import CheckEntry, CheckResult, Finding, PairStatus, check
from interactions.medlist import MedList
from interactions.models import Severity

SEVERITY_ICONS = {
    Severity.CONTRAINDICATED: "✖",
    Severity.MAJOR: "⚠",
    Severity.MODERATE: "⚠",
    Severity.MINOR: "ℹ",
    Severity.NONE: "✓",
}


@dataclass(frozen=True)
class RegimenOption:
    slug: str
    label: str
    selected: bool


@dataclass(frozen=True)
class EntryView:
    slug: str
    name: str
    regimen_label: str
    regimen_options: tuple[RegimenOption, ...]
    covered: bool


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    pair_label: str
    icon: str
    dom_id: str


@dataclass(frozen=True)
class Report:
    entries: list[EntryView]
    findings: list[FindingView]
    not_reviewed: list[str]
    no_known: list[str]
    safety_messages: list
    summary: str
    questions: list[str]


def build_report(medlist: MedList) -> Report:
    result = check([CheckEntry(e.slug, e.regimen) for e in medlist.entries])
    names = {e.index: _entry_name(e) for e in result.entries}
    entries = [_entry_view(e) for e in result.entries]
    findings = [
        FindingView(
            finding=f,
            pair_label=_pair_label(names, f.entries),
            icon=SEVERITY_ICONS[f.severity],
            dom_id=f"finding-{position}",
        )
        for position, f in enumerate(result.findings, start=1)
    ]
    not_reviewed = [_pair_label(names, p.entries) for p in result.pairs if p.unreviewed]
    no_known = [_pair_label(names, p.entries) for p in result.pairs if p.status == PairStatus.NO_KNOWN_INTERACTION]
    return Report(
        entries=entries,
        findings=findings,
        not_reviewed=not_reviewed,
        no_known=no_known,
        safety_messages=result.safety_messages,
        summary=summary_line(result, len(entries)),
        questions=questions(result, names),
    )


def _entry_name(entry) -> str:
    if entry.regimen is not None:
        return f"{entry.medication.name} ({entry.regimen.name.lower()})"
    return entry.medication.name


def _entry_view(entry) -> EntryView:
    options = tuple(
        RegimenOption(r.slug, r.patient_label, entry.regimen is not None and entry.regimen.id == r.id)
        for r in entry.medication.regimens.all()
    )
    return EntryView(
        slug=entry.medication.slug,
        name=entry.medication.name,
        regimen_label=entry.regimen.patient_label if entry.regimen else "",
        regimen_options=options,
        covered=entry.covered,
    )


def _pair_label(names: dict[int, str], pair: tuple[int, int]) -> str:
    return _("%(first)s with %(second)s") % {"first": names[pair[0]], "second": names[pair[1]]}


def summary_line(result: CheckResult, medicine_count: int) -> str:
    """A short, calm line so an anxious reader knows where they stand."""
    if medicine_count == 0:
        return _("Your list is empty. Add the medicines you take to check them.")
    if medicine_count == 1:
        return _("Add another medicine to check how they mix.")
    avoid, serious = result.count(Severity.CONTRAINDICATED), result.count(Severity.MAJOR)
    caution, minor = result.count(Severity.MODERATE), result.count(Severity.MINOR)
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
    unreviewed = len(result.not_reviewed_pairs)
    if unreviewed:
        parts.append(
            ngettext("%(n)d pair to ask your pharmacist about", "%(n)d pairs to ask your pharmacist about", unreviewed)
            % {"n": unreviewed}
        )
    if not parts:
        return _("We found no known interactions between these medicines in our reviewed content.")
    return _("We found: %(parts)s.") % {"parts": ", ".join(parts)}


def questions(result: CheckResult, names: dict[int, str]) -> list[str]:
    """A checklist for the appointment, made from the findings."""
    asked: list[str] = []
    for finding in result.findings:
        if finding.severity in (Severity.NONE, Severity.MINOR):
            continue
        pair = _pair_label(names, finding.entries)
        asked.append(
            _("%(pair)s: %(title)s. Is this combination right for me, and what should I watch for?")
            % {"pair": pair, "title": finding.title}
        )
        if finding.dose_variants:
            asked.append(_("Which dose of %(name)s am I taking?") % {"name": names[finding.entries[0]]})
    for pair in result.not_reviewed_pairs:
        asked.append(
            _("%(pair)s: this site has not reviewed this pair. Can you check it for me?")
            % {"pair": _pair_label(names, pair.entries)}
        )
    if result.safety_messages:
        asked.append(_("Should I keep naloxone (Narcan) at home, and does my family know how to use it?"))
    if result.entries:
        asked.append(_("Is there anything on this list I should stop, change or take at a different time?"))
    return list(dict.fromkeys(asked))
