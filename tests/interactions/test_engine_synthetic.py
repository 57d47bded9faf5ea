"""The checker's logic on a tiny rule set made here, apart from the clinical content.

Medicines, groups and rules below are invented (slugs start with "syn-"), so these tests pin the
engine: which rule wins, dose bands, combination products, whole-list findings, coverage and expiry.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from interactions.checker import CheckEntry, FindingKind, PairStatus, check
from interactions.models import (
    DrugClass,
    GroupKind,
    Interaction,
    ListRule,
    Medication,
    Reference,
    Regimen,
    Severity,
    StandingMessage,
    Status,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)


def group(slug: str, *, parent: DrugClass | None = None, kind: str = GroupKind.MECHANISM, also_in=()) -> DrugClass:
    made = DrugClass.objects.create(slug=slug, name=slug.replace("-", " "), kind=kind, parent=parent)
    made.also_in.add(*also_in)
    return made


def medicine(slug: str, *groups: DrugClass, covered: bool = True, signed_on: date = TODAY) -> Medication:
    made = Medication.objects.create(
        slug=slug,
        name=slug.removeprefix("syn-").capitalize(),
        curated=True,
        interactions_reviewed=covered,
        coverage_signer="Test reviewer" if covered else "",
        coverage_signed_on=signed_on if covered else None,
        coverage_label=f"{slug} label" if covered else "",
    )
    made.classes.add(*groups)
    return made


def rule(slug: str, a, b, severity: str, *, regimen_a: Regimen | None = None, summary: str = "") -> Interaction:
    sides = {}
    for side, value in (("a", a), ("b", b)):
        sides[f"medication_{side}" if isinstance(value, Medication) else f"drug_class_{side}"] = value
    made = Interaction.objects.create(
        slug=slug,
        regimen_a=regimen_a,
        severity=severity,
        title=slug,
        summary=summary or f"{slug} summary",
        action="Ask your provider.",
        urgent_signs="Fainting - call 911." if severity in ("contraindicated", "major") else "",
        evidence="established",
        status=Status.PUBLISHED,
        reviewed_on=TODAY,
        reviewed_by_name="a test reviewer",
        **sides,
    )
    made.references.add(SOURCE())
    return made


def SOURCE() -> Reference:
    return Reference.objects.get_or_create(key="syn-source", defaults={"citation": "Synthetic source."})[0]


def verdict(*slugs: str, regimens: dict[str, str] | None = None) -> tuple[str, str | None]:
    regimens = regimens or {}
    result = check([CheckEntry(s, regimens.get(s)) for s in slugs], today=TODAY)
    pair = result.pairs[0]
    return pair.status, pair.severity


@pytest.fixture
def world():
    """Two mechanisms with a strength child, a class that implies a mechanism, four medicines."""
    seroton = group("syn-serotonin")
    seroton_strong = group("syn-serotonin-strong", parent=seroton)
    blocker = group("syn-blocker")
    ssri = group("syn-ssri", kind=GroupKind.CLASS, also_in=[seroton_strong])
    enzyme_inhibitor = group("syn-enzyme-inhibitor")
    enzyme_substrate = group("syn-enzyme-substrate")
    return {
        "seroton": seroton,
        "strong": seroton_strong,
        "blocker": blocker,
        "ssri": ssri,
        "inhibitor": enzyme_inhibitor,
        "substrate": enzyme_substrate,
        "ssri-a": medicine("syn-ssri-a", ssri, enzyme_inhibitor),
        "mild": medicine("syn-mild", seroton),
        "mao": medicine("syn-mao", blocker),
        "sub": medicine("syn-sub", enzyme_substrate),
        "plain": medicine("syn-plain"),
    }


def test_a_mechanism_rule_covers_every_medicine_that_shares_the_mechanism(world):
    rule("syn-sero-sero", world["seroton"], world["seroton"], Severity.MODERATE, summary="{first} and {second} mix.")
    result = check([CheckEntry("syn-ssri-a"), CheckEntry("syn-mild")], today=TODAY)
    (finding,) = result.findings
    assert finding.severity == Severity.MODERATE
    assert finding.summary == "Ssri-a and mild mix."
    assert finding.by_mechanism is True


def test_the_names_follow_the_rule_sides_not_the_list_order(world):
    rule("syn-block-sero", world["blocker"], world["seroton"], Severity.MAJOR, summary="{first} with {second}.")
    result = check([CheckEntry("syn-mild"), CheckEntry("syn-mao")], today=TODAY)
    assert result.findings[0].summary == "Mao with mild."
    assert result.findings[0].by_mechanism is True


def test_a_narrower_group_rule_replaces_its_parent_rule(world):
    rule("syn-block-sero", world["blocker"], world["seroton"], Severity.MAJOR)
    rule("syn-block-strong", world["blocker"], world["strong"], Severity.CONTRAINDICATED)
    strong = check([CheckEntry("syn-mao"), CheckEntry("syn-ssri-a")], today=TODAY)
    mild = check([CheckEntry("syn-mao"), CheckEntry("syn-mild")], today=TODAY)
    assert [f.rule.slug for f in strong.findings] == ["syn-block-strong"]
    assert [f.rule.slug for f in mild.findings] == ["syn-block-sero"]


def test_a_class_rule_replaces_the_mechanism_its_class_implies(world):
    rule("syn-block-strong", world["blocker"], world["strong"], Severity.CONTRAINDICATED)
    rule("syn-block-ssri", world["blocker"], world["ssri"], Severity.MAJOR)
    result = check([CheckEntry("syn-mao"), CheckEntry("syn-ssri-a")], today=TODAY)
    assert [f.rule.slug for f in result.findings] == ["syn-block-ssri"]


def test_a_medicine_rule_replaces_every_group_rule_for_that_pair(world):
    rule("syn-block-strong", world["blocker"], world["strong"], Severity.CONTRAINDICATED)
    rule("syn-mao-ssri-a", world["mao"], world["ssri-a"], Severity.MODERATE)
    assert verdict("syn-mao", "syn-ssri-a") == (PairStatus.FINDING, Severity.MODERATE)


def test_rules_on_unrelated_mechanisms_both_show_and_the_worst_is_the_verdict(world):
    rule("syn-sero-sero", world["seroton"], world["seroton"], Severity.MODERATE)
    rule("syn-inhibit", world["inhibitor"], world["substrate"], Severity.MAJOR)
    world["sub"].classes.add(world["seroton"])
    result = check([CheckEntry("syn-ssri-a"), CheckEntry("syn-sub")], today=TODAY)
    assert sorted(f.rule.slug for f in result.findings) == ["syn-inhibit", "syn-sero-sero"]
    assert result.pairs[0].severity == Severity.MAJOR
    assert result.findings[0].rule.slug == "syn-inhibit"  # most severe first


def test_covered_medicines_with_no_rule_are_reviewed_no_interaction_expected(world):
    assert verdict("syn-plain", "syn-sub") == (PairStatus.NO_KNOWN_INTERACTION, None)


def test_an_uncovered_medicine_is_not_reviewed_never_no_interaction(world):
    medicine("syn-unknown", covered=False)
    assert verdict("syn-plain", "syn-unknown") == (PairStatus.NOT_REVIEWED, None)


def test_coverage_lapses_after_the_review_interval(world, settings):
    settings.REVIEW_INTERVAL_DAYS = 30
    medicine("syn-old", signed_on=TODAY - timedelta(days=31))
    medicine("syn-recent", signed_on=TODAY - timedelta(days=29))
    assert verdict("syn-plain", "syn-old") == (PairStatus.NOT_REVIEWED, None)
    assert verdict("syn-plain", "syn-recent") == (PairStatus.NO_KNOWN_INTERACTION, None)
    old = Medication.objects.get(slug="syn-old")
    assert old.coverage_problems(TODAY) == ["The sign-off has lapsed: it needs a new review."]


def test_a_dose_band_adds_groups_only_at_that_dose(world):
    qt = group("syn-qt")
    heavy = medicine("syn-heavy")
    low = Regimen.objects.create(
        medication=heavy, slug="syn-heavy-low", name="Low", patient_label="Low", min_mg=1, max_mg=10
    )
    high = Regimen.objects.create(
        medication=heavy, slug="syn-heavy-high", name="High", patient_label="High", min_mg=11, max_mg=100
    )
    high.classes.add(qt)
    medicine("syn-qt-other", qt)
    rule("syn-qt-qt", qt, qt, Severity.MAJOR)
    assert verdict("syn-heavy", "syn-qt-other", regimens={"syn-heavy": low.slug})[0] == PairStatus.NO_KNOWN_INTERACTION
    assert verdict("syn-heavy", "syn-qt-other", regimens={"syn-heavy": high.slug}) == (PairStatus.FINDING, "major")
    # Dose unknown: the most cautious answer, with what each dose would mean.
    unknown = check([CheckEntry("syn-heavy"), CheckEntry("syn-qt-other")], today=TODAY)
    assert unknown.pairs[0].severity == Severity.MAJOR
    assert {v.regimen: v.severity for v in unknown.findings[0].dose_variants} == {
        "syn-heavy-low": "",
        "syn-heavy-high": "major",
    }


def test_a_combination_product_is_checked_through_every_ingredient(world):
    combo = medicine("syn-combo")
    combo.ingredients.add(world["plain"], world["ssri-a"])
    rule("syn-block-strong", world["blocker"], world["strong"], Severity.CONTRAINDICATED)
    result = check([CheckEntry("syn-combo"), CheckEntry("syn-mao")], today=TODAY)
    assert result.pairs[0].severity == Severity.CONTRAINDICATED
    assert result.findings[0].ingredients == ("syn-ssri-a", "syn-mao")


def test_a_rule_on_the_product_itself_replaces_its_ingredients_rules(world):
    combo = medicine("syn-combo")
    combo.ingredients.add(world["plain"], world["ssri-a"])
    rule("syn-block-strong", world["blocker"], world["strong"], Severity.CONTRAINDICATED)
    rule("syn-combo-mao", combo, world["blocker"], Severity.MAJOR)
    result = check([CheckEntry("syn-combo"), CheckEntry("syn-mao")], today=TODAY)
    assert [f.rule.slug for f in result.findings] == ["syn-combo-mao"]  # once, though two ingredients match


def test_no_reassuring_answer_beside_a_warning_for_the_same_pair(world):
    combo = medicine("syn-combo")
    combo.ingredients.add(world["plain"], world["ssri-a"])
    rule("syn-plain-mao", world["plain"], world["mao"], Severity.NONE)
    rule("syn-block-strong", world["blocker"], world["strong"], Severity.CONTRAINDICATED)
    result = check([CheckEntry("syn-combo"), CheckEntry("syn-mao")], today=TODAY)
    assert [f.severity for f in result.findings] == [Severity.CONTRAINDICATED]


def test_the_same_ingredient_twice_is_flagged_and_a_product_rule_can_raise_it(world):
    combo = medicine("syn-combo")
    combo.ingredients.add(world["plain"], world["mild"])
    rule("syn-sero-sero", world["seroton"], world["seroton"], Severity.MODERATE)
    twice = check([CheckEntry("syn-combo"), CheckEntry("syn-mild")], today=TODAY)
    assert [f.kind for f in twice.findings] == [FindingKind.DUPLICATE_INGREDIENT]  # not "mixes with itself"
    rule("syn-combo-mild", combo, world["mild"], Severity.CONTRAINDICATED)
    raised = check([CheckEntry("syn-combo"), CheckEntry("syn-mild")], today=TODAY)
    assert raised.pairs[0].severity == Severity.CONTRAINDICATED


def test_a_whole_list_finding_names_every_medicine_involved(world):
    sleepy = group("syn-sleepy")
    for slug in ("syn-s1", "syn-s2", "syn-s3"):
        medicine(slug, sleepy)
    ListRule.objects.create(
        slug="syn-three-sleepy",
        drug_class=sleepy,
        min_count=3,
        severity=Severity.MAJOR,
        title="Three sleepy",
        summary="You take {medicines}.",
        action="Ask.",
        status=Status.PUBLISHED,
        reviewed_on=TODAY,
        reviewed_by_name="a test reviewer",
    )
    two = check([CheckEntry("syn-s1"), CheckEntry("syn-s2"), CheckEntry("syn-plain")], today=TODAY)
    assert not two.list_findings
    three = check(
        [CheckEntry("syn-s1"), CheckEntry("syn-plain"), CheckEntry("syn-s2"), CheckEntry("syn-s3")], today=TODAY
    )
    (finding,) = three.list_findings
    assert finding.kind == FindingKind.WHOLE_LIST
    assert finding.entries == (0, 2, 3)
    assert finding.summary == "You take s1, s2 and s3."


def test_a_whole_list_rule_with_an_anchor_needs_the_anchor(world):
    ListRule.objects.create(
        slug="syn-sero-on-mao",
        drug_class=world["seroton"],
        with_class=world["blocker"],
        min_count=2,
        severity=Severity.CONTRAINDICATED,
        title="Serotonin on top of a blocker",
        summary="{medicines}.",
        action="Ask.",
        status=Status.PUBLISHED,
        reviewed_on=TODAY,
        reviewed_by_name="a test reviewer",
    )
    without = check([CheckEntry("syn-ssri-a"), CheckEntry("syn-mild")], today=TODAY)
    assert not without.list_findings
    with_anchor = check([CheckEntry("syn-ssri-a"), CheckEntry("syn-mild"), CheckEntry("syn-mao")], today=TODAY)
    assert [f.entries for f in with_anchor.list_findings] == [(0, 1, 2)]


def test_unpublished_rules_and_messages_say_nothing(world):
    made = rule("syn-sero-sero", world["seroton"], world["seroton"], Severity.MODERATE)
    made.status = Status.DRAFT
    made.save()
    assert verdict("syn-ssri-a", "syn-mild") == (PairStatus.NO_KNOWN_INTERACTION, None)


def test_standing_messages_follow_the_dose_form(world):
    tablet = Regimen.objects.create(
        medication=world["plain"], slug="syn-plain-tab", name="Tab", patient_label="Tab", min_mg=1, max_mg=5
    )
    shot = Regimen.objects.create(
        medication=world["plain"], slug="syn-plain-shot", name="Shot", patient_label="Shot", min_mg=6, max_mg=9
    )
    for slug, target in (("syn-all", {}), ("syn-tab-only", {"regimen": tablet}), ("syn-shot-only", {"regimen": shot})):
        StandingMessage.objects.create(
            slug=slug,
            medication=world["plain"],
            title=slug,
            text="Text.",
            status=Status.PUBLISHED,
            reviewed_on=TODAY,
            reviewed_by_name="a test reviewer",
            **target,
        )
    StandingMessage.objects.create(
        slug="syn-group",
        drug_class=world["blocker"],
        title="Group",
        text="Text.",
        status=Status.PUBLISHED,
        reviewed_on=TODAY,
        reviewed_by_name="a test reviewer",
    )

    def keys(*entries: CheckEntry) -> list[str]:
        return sorted(m.key for m in check(list(entries), today=TODAY).safety_messages)

    assert keys(CheckEntry("syn-plain", "syn-plain-tab")) == ["syn-all", "syn-tab-only"]
    assert keys(CheckEntry("syn-plain")) == ["syn-all", "syn-shot-only", "syn-tab-only"]  # dose unknown: all
    assert keys(CheckEntry("syn-mao")) == ["syn-group"]


@pytest.mark.parametrize(
    "changes",
    [{"severity": "bogus"}, {"status": "whatever"}, {"status": Status.PUBLISHED, "reviewed_on": None}],
)
def test_the_database_refuses_a_rule_that_could_mislead(world, changes):
    from django.db import IntegrityError, transaction

    made = rule("syn-sero-sero", world["seroton"], world["seroton"], Severity.MODERATE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Interaction.objects.filter(pk=made.pk).update(**changes)
