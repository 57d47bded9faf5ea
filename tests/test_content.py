"""Guards over all published patient content: reading level, sources, urgent signs."""

import pytest
import textstat

from interactions.checker import safety_messages
from interactions.models import DrugClass, Interaction, Medication, Severity

pytestmark = pytest.mark.django_db
MAX_GRADE = 8.0


def grade(text: str) -> float:
    return textstat.flesch_kincaid_grade(text)


def patient_text(rule: Interaction) -> str:
    return " ".join([rule.title + ".", rule.summary, rule.action, " ".join(rule.urgent_sign_list), rule.timing])


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


def test_the_standing_safety_messages_read_at_grade_8_or_below():
    for message in safety_messages():
        assert grade(f"{message.title}. {message.text}") <= MAX_GRADE, message.key


def test_every_naltrexone_dose_has_a_rule_with_every_reviewed_medicine():
    """naltrexone is marked covered: that claim must hold for each dose form."""
    from interactions.checker import CheckEntry, check

    curated = list(Medication.objects.filter(curated=True).exclude(slug="naltrexone").values_list("slug", flat=True))
    for regimen in ("naltrexone-low-dose", "naltrexone-tablet", "naltrexone-injection"):
        for slug in curated:
            result = check([CheckEntry("naltrexone", regimen), CheckEntry(slug)])
            naltrexone_pairs = [f for f in result.findings if "naltrexone" in f.ingredients]
            assert naltrexone_pairs, (regimen, slug)
