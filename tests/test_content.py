"""Guards over all published patient content: reading level, sources, urgent signs."""

import pytest

from core.readability import MAX_GRADE
from interactions.content_packs import reading_grade as grade
from interactions.models import DrugClass, Interaction, ListRule, Medication, Severity, StandingMessage

pytestmark = pytest.mark.django_db


def patient_text(rule: Interaction | ListRule) -> str:
    timing = getattr(rule, "timing", "")  # whole-list rules have no timing
    return " ".join([rule.title + ".", rule.summary, rule.action, " ".join(rule.urgent_sign_list), timing])


def test_every_published_rule_reads_at_grade_8_or_below():
    rules = list(Interaction.objects.published())
    assert len(rules) >= 150
    too_hard = [(r.slug, round(grade(patient_text(r)), 1)) for r in rules if grade(patient_text(r)) > MAX_GRADE]
    assert too_hard == []


def test_every_published_rule_cites_sources():
    assert not Interaction.objects.published().filter(references__isnull=True).exists()


def test_serious_rules_always_list_urgent_signs():
    serious = Interaction.objects.published().filter(severity__in=[Severity.CONTRAINDICATED, Severity.MAJOR])
    assert all(rule.urgent_sign_list for rule in serious)


def test_class_and_medication_descriptions_read_at_grade_8_or_below():
    texts = [c.description for c in DrugClass.objects.exclude(description="")]
    texts += [c.duplicate_warning for c in DrugClass.objects.exclude(duplicate_warning="")]
    texts += [m.description for m in Medication.objects.filter(curated=True).exclude(description="")]
    assert len(texts) > 100
    assert [t for t in texts if grade(t) > MAX_GRADE] == []


def test_whole_list_rules_read_at_grade_8_or_below_and_cite_sources():
    rules = list(ListRule.objects.published())
    assert len(rules) >= 5
    too_hard = [(r.slug, round(grade(patient_text(r)), 1)) for r in rules if grade(patient_text(r)) > MAX_GRADE]
    assert too_hard == []
    assert not ListRule.objects.published().filter(references__isnull=True).exists()


def test_the_standing_messages_read_at_grade_8_or_below_and_cite_sources():
    messages = list(StandingMessage.objects.published())
    assert len(messages) >= 10
    too_hard = [m.slug for m in messages if grade(f"{m.title}. {m.text} {m.more}") > MAX_GRADE]
    assert too_hard == []
    assert not StandingMessage.objects.published().filter(references__isnull=True).exists()


def test_every_covered_medicine_records_its_label_and_sign_off():
    covered = Medication.objects.filter(interactions_reviewed=True)
    assert covered.count() >= 250
    incomplete = [m.slug for m in covered if not (m.coverage_label and m.coverage_signed_on and m.coverage_signer)]
    assert incomplete == []


def test_naltrexone_carries_its_standing_messages_at_every_dose():
    from interactions.checker import CheckEntry, check

    for regimen in ("naltrexone-low-dose", "naltrexone-tablet", "naltrexone-injection"):
        keys = [m.key for m in check([CheckEntry("naltrexone", regimen)]).safety_messages]
        assert keys, regimen
