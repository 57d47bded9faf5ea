"""The clinical behaviour of the reviewed rules, through the checker."""

from datetime import date

import pytest

from interactions.checker import CheckEntry, FindingKind, PairStatus, check
from interactions.models import Interaction, Medication, Severity, Status
from tests.medicines import THIRTY

pytestmark = pytest.mark.django_db


def entries(*items):
    return [CheckEntry(*item) if isinstance(item, tuple) else CheckEntry(item) for item in items]


def only_finding(result):
    """The verdict of a one-pair check: its most severe finding (any others fold beneath it)."""
    assert result.findings, "no finding"
    assert len({f.entries for f in result.findings}) == 1, [f.title for f in result.findings]
    top = result.findings[0]
    assert result.pairs[0].severity == top.severity
    return top


@pytest.mark.parametrize("regimen", ["naltrexone-low-dose", "naltrexone-tablet", "naltrexone-injection", None])
@pytest.mark.parametrize(
    "opioid",
    [
        "oxycodone",
        "tramadol",
        "tapentadol",
        "methadone",
        "buprenorphine",
        "kratom",
        "heroin",
        "fentanyl",
        "promethazine-and-codeine",
    ],
)
def test_naltrexone_at_every_dose_is_avoided_with_opioids(regimen, opioid):
    finding = only_finding(check(entries(("naltrexone", regimen), opioid)))
    assert finding.severity == Severity.CONTRAINDICATED
    assert finding.kind == FindingKind.INTERACTION
    assert finding.urgent_signs


def test_the_injection_rule_speaks_of_the_month_long_block():
    finding = only_finding(check(entries(("naltrexone", "naltrexone-injection"), "oxycodone")))
    assert "4 weeks" in finding.summary or "month" in finding.summary.lower()


def test_opioid_free_wait_is_structured():
    finding = only_finding(check(entries(("naltrexone", "naltrexone-tablet"), "oxycodone")))
    assert finding.timing.days == 10
    assert finding.timing.stop_first == "oxycodone"
    assert finding.timing.then_start == "naltrexone"
    long_acting = only_finding(check(entries(("naltrexone", "naltrexone-tablet"), "methadone")))
    assert long_acting.timing.days == 14


def test_an_unknown_dose_gives_the_most_cautious_answer_and_says_how_it_differs():
    finding = only_finding(check(entries("naltrexone", "oxycodone")))
    assert finding.severity == Severity.CONTRAINDICATED
    regimens = {v.regimen for v in finding.dose_variants}
    assert regimens == {"naltrexone-low-dose", "naltrexone-tablet", "naltrexone-injection"}


def test_a_known_dose_has_no_dose_variants():
    finding = only_finding(check(entries(("naltrexone", "naltrexone-low-dose"), "oxycodone")))
    assert finding.dose_variants == ()


def test_low_dose_and_standard_naltrexone_differ_with_alcohol():
    low = only_finding(check(entries(("naltrexone", "naltrexone-low-dose"), "alcohol")))
    tablet = only_finding(check(entries(("naltrexone", "naltrexone-tablet"), "alcohol")))
    assert low.rule.pk != tablet.rule.pk
    assert low.rule.regimen_a.slug == "naltrexone-low-dose"
    assert tablet.rule.regimen_a.slug == "naltrexone-tablet"


@pytest.mark.parametrize("antidepressant", ["sertraline", "fluoxetine", "venlafaxine", "duloxetine"])
def test_naltrexone_with_ssri_or_snri_is_reviewed_and_expected_to_be_fine(antidepressant):
    finding = only_finding(check(entries(("naltrexone", "naltrexone-tablet"), antidepressant)))
    assert finding.severity == Severity.NONE


def test_naltrexone_with_a_painkiller_that_is_not_an_opioid_is_reassuring():
    for other in ("ibuprofen", "acetaminophen"):
        assert only_finding(check(entries("naltrexone", other))).severity == Severity.NONE


def test_naloxone_is_fine_with_naltrexone():
    assert only_finding(check(entries("naltrexone", "naloxone"))).severity == Severity.NONE


@pytest.mark.parametrize(
    "other",
    [
        "sertraline",
        "venlafaxine",
        "amitriptyline",
        "mirtazapine",
        "trazodone",
        "bupropion",
        "tramadol",
        "methadone",
        "dextromethorphan",
        "st-johns-wort",
        "linezolid",
    ],
)
def test_maois_are_avoided_with_serotonergic_medicines_with_a_14_day_washout(other):
    finding = only_finding(check(entries("phenelzine", other)))
    assert finding.severity == Severity.CONTRAINDICATED
    assert finding.timing.days == 14


def test_fluoxetine_needs_five_weeks_before_an_maoi():
    finding = only_finding(check(entries("fluoxetine", "phenelzine")))
    assert finding.severity == Severity.CONTRAINDICATED
    assert finding.timing.days == 35
    assert finding.timing.stop_first == "fluoxetine"
    assert finding.timing.then_start == "phenelzine"


def test_the_most_specific_rule_wins():
    # fluoxetine+MAOI (medication rule) beats SSRI+MAOI (class rule)
    assert only_finding(check(entries("fluoxetine", "phenelzine"))).rule.medication_a.slug == "fluoxetine"
    # the sertraline+MAOI answer comes from the class rule
    assert only_finding(check(entries("sertraline", "phenelzine"))).rule.drug_class_a.slug == "maoi"


def test_a_class_rule_covers_descendant_classes():
    # opioid-agonist + benzodiazepine covers oxycodone (full agonist, a child class)
    finding = only_finding(check(entries("oxycodone", "alprazolam")))
    assert finding.severity == Severity.MAJOR
    assert finding.rule.drug_class_a.slug == "opioid-agonist"


@pytest.mark.parametrize(
    ("a", "b", "severity"),
    [
        ("sertraline", "tramadol", Severity.MAJOR),
        ("sertraline", "sumatriptan", Severity.MODERATE),
        ("sertraline", "ibuprofen", Severity.MODERATE),
        ("sertraline", "warfarin", Severity.MODERATE),
        ("sertraline", "st-johns-wort", Severity.MAJOR),
        ("citalopram", "methadone", Severity.MAJOR),
        ("fluoxetine", "thioridazine", Severity.CONTRAINDICATED),
        ("pimozide", "sertraline", Severity.CONTRAINDICATED),
        ("bupropion", "alcohol", Severity.MAJOR),
        ("disulfiram", "alcohol", Severity.CONTRAINDICATED),
        ("kratom", "alprazolam", Severity.MAJOR),
        ("oxycodone", "gabapentin", Severity.MAJOR),
        ("oxycodone", "alcohol", Severity.MAJOR),
        ("methadone", "st-johns-wort", Severity.MAJOR),
    ],
)
def test_reviewed_pairs(a, b, severity):
    assert only_finding(check(entries(a, b))).severity == severity


def test_buprenorphine_or_methadone_with_benzodiazepines_never_says_stop():
    for opioid in ("buprenorphine", "methadone"):
        finding = only_finding(check(entries(opioid, "alprazolam")))
        assert finding.severity == Severity.MAJOR
        assert "on your own" in finding.action


def test_order_does_not_matter():
    one = only_finding(check(entries("sertraline", "tramadol")))
    other = only_finding(check(entries("tramadol", "sertraline")))
    assert one.rule.pk == other.rule.pk
    assert other.entries == (0, 1)


def test_a_combination_product_is_checked_through_its_ingredients():
    result = check(entries("naltrexone-and-bupropion", "oxycodone"))
    finding = result.findings[0]
    assert finding.severity == Severity.CONTRAINDICATED
    # Contrave has its own rule (its label), not the low-dose naltrexone text.
    assert finding.ingredients == ("naltrexone-and-bupropion", "oxycodone")
    assert "naltrexone-low-dose" not in {f.rule.regimen_a.slug for f in result.findings if f.rule.regimen_a}
    assert result.safety_messages


def test_contrave_brings_bupropion_warnings():
    findings = check(entries("naltrexone-and-bupropion", "phenelzine")).findings
    assert findings[0].severity == Severity.CONTRAINDICATED
    assert findings[0].ingredients[0] in ("bupropion", "naltrexone-and-bupropion")
    # its naltrexone is checked as naltrexone, not as the low-dose form
    assert not [f for f in findings if f.rule is not None and f.rule.regimen_a is not None]


def test_contrave_with_vivitrol_is_naltrexone_twice():
    result = check(entries("naltrexone-and-bupropion", ("naltrexone", "naltrexone-injection")))
    kinds = [(f.kind, f.ingredients) for f in result.findings]
    assert (FindingKind.DUPLICATE_INGREDIENT, ("naltrexone", "naltrexone")) in kinds


def test_two_ssris_are_flagged_as_the_same_class():
    result = check(entries("sertraline", "fluoxetine"))
    duplicate = [f for f in result.findings if f.kind == FindingKind.DUPLICATE_CLASS]
    assert [f.title for f in duplicate] == ["Two SSRI antidepressants"] or len(duplicate) == 1
    assert duplicate[0].summary
    assert result.pairs[0].severity in (Severity.MODERATE, Severity.MAJOR)


def test_findings_come_most_severe_first():
    result = check(entries("sertraline", "ibuprofen", ("naltrexone", "naltrexone-tablet"), "oxycodone"))
    ranks = [f.severity_rank for f in result.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert result.findings[0].severity == Severity.CONTRAINDICATED


def test_findings_come_most_severe_first_then_in_list_order_with_whole_list_findings_last():
    result = check([CheckEntry(slug) for slug in THIRTY])
    order = [(-f.severity_rank, f.kind == FindingKind.WHOLE_LIST, f.entries, f.kind) for f in result.findings]
    assert order == sorted(order)
    assert any(f.kind == FindingKind.WHOLE_LIST for f in result.findings)


def test_a_whole_list_finding_worked_out_before_is_placed_at_this_lists_entries():
    check(entries("sertraline", "tramadol", "dextromethorphan"))
    slugs = ["ibuprofen", "dextromethorphan", "sertraline", "tramadol"]
    whole = [f for f in check(entries(*slugs)).findings if f.kind == FindingKind.WHOLE_LIST]
    assert whole
    for finding in whole:
        assert [slugs[i] for i in finding.entries] == list(finding.ingredients)


def test_covered_medicines_without_a_rule_have_no_known_interaction():
    sign_off(Medication.objects.filter(slug__in=["acamprosate", "ibuprofen"]))
    result = check(entries("acamprosate", "ibuprofen"))
    assert result.findings == []
    assert result.pairs[0].status == PairStatus.NO_KNOWN_INTERACTION


@pytest.mark.dictionary  # an imported, uncovered medicine
def test_an_uncovered_medicine_is_never_reported_as_safe():
    result = check(entries("sertraline", "abacavir"))
    assert result.findings == []
    assert result.pairs[0].status == PairStatus.NOT_REVIEWED
    assert result.pairs[0].unreviewed == (("sertraline", "abacavir"),)


def test_a_combination_product_is_covered_only_when_all_its_ingredients_are():
    sign_off(Medication.objects.filter(slug="naltrexone"))
    Medication.objects.filter(slug="bupropion").update(interactions_reviewed=False)
    result = check(entries("naltrexone-and-bupropion", "sertraline"))
    assert not result.entries[0].covered
    sign_off(Medication.objects.filter(slug="bupropion"))
    assert check(entries("naltrexone-and-bupropion", "sertraline")).entries[0].covered


def sign_off(medications) -> None:
    medications.update(interactions_reviewed=True, coverage_signer="Test reviewer", coverage_signed_on=date.today())


def test_draft_rules_are_not_used():
    rule = only_finding(check(entries("sertraline", "tramadol"))).rule
    rule.status = Status.DRAFT
    rule.save()  # as the admin does: the content version moves, so no process keeps the old rule
    findings = check(entries("sertraline", "tramadol")).findings
    assert all(f.rule is None or f.rule.pk != rule.pk for f in findings)


def test_naltrexone_brings_standing_messages_that_fit_the_dose():
    low = [m.key for m in check(entries(("naltrexone", "naltrexone-low-dose"))).safety_messages]
    shot = [m.key for m in check(entries(("naltrexone", "naltrexone-injection"))).safety_messages]
    assert low and shot
    # A low-dose user is not told about the shot's month-long block.
    assert not [key for key in low if "injection" in key]
    assert [key for key in shot if "injection" in key]
    texts = " ".join(m.text + m.more for m in check(entries("naltrexone")).safety_messages)
    assert "988" in texts


def test_standing_messages_follow_what_is_on_the_list():
    keys = {m.key for m in check(entries("sertraline", "ibuprofen")).safety_messages}
    assert not [key for key in keys if "naltrexone" in key]
    assert keys  # antidepressant and NSAID messages


def test_emergency_numbers_come_from_settings(settings):
    settings.CRISIS_LINE = "555-0100"
    texts = " ".join(m.text + m.more for m in check(entries("naltrexone")).safety_messages)
    assert "555-0100" in texts
    assert "988" not in texts


def test_unknown_slugs_are_reported_not_checked():
    result = check(entries("sertraline", "no-such-thing", "tramadol"))
    assert result.unknown == [1]
    assert only_finding(result).entries == (0, 2)


def test_an_empty_list_is_fine():
    result = check([])
    assert result.findings == [] and result.pairs == [] and result.safety_messages == []


@pytest.mark.parametrize("size", [2, 10, 30])
def test_the_check_runs_a_fixed_number_of_queries(size, django_assert_num_queries):
    from interactions import checker

    checker._memo = None  # as in a fresh process
    # The first check builds the reviewed-content index (groups, their links, rules with references and
    # articles, whole-list rules with references, standing messages, coverage dates) and caches it.
    with django_assert_num_queries(18):
        check(entries(*THIRTY[:size]))
    # Then: only the content version. The medicines (with groups, doses and ingredients) and the pairs'
    # answers are kept in this process for the content version.
    with django_assert_num_queries(1):
        result = check(entries(*THIRTY[:size]))
    assert len(result.entries) == size


def test_bulk_writes_cannot_leave_stale_answers():
    """update() and bulk_create() send no signals: the content version moves anyway."""
    rule = only_finding(check(entries("sertraline", "tramadol"))).rule
    Interaction.objects.filter(pk=rule.pk).update(severity=Severity.MINOR)
    assert only_finding(check(entries("sertraline", "tramadol"))).severity == Severity.MINOR
    assert check(entries("sertraline", "newamine")).unknown == [1]
    Medication.objects.bulk_create([Medication(slug="newamine", name="Newamine")])
    assert check(entries("sertraline", "newamine")).unknown == []
    Medication.objects.filter(slug="sertraline").update(interactions_reviewed=False)
    assert not check(entries("sertraline", "newamine")).entries[0].covered


@pytest.mark.parametrize(("first", "second"), [("sildenafil", "tadalafil"), ("tadalafil", "sildenafil")])
def test_a_rule_both_medicines_fall_under_both_ways_reads_in_list_order_in_every_process(first, second):
    # Both PDE5 medicines are in both groups of the blood-pressure rule. The rule used to read with
    # whichever medicine the process's hash seed put first; now the list's first medicine is side A.
    result = check([CheckEntry(first), CheckEntry(second)])
    finding = next(f for f in result.findings if f.rule is not None and f.rule.slug == "pde5-blood-pressure-medicines")
    assert finding.summary.startswith(f"{first.capitalize()} lowers blood pressure a little. With {second} ")


def test_a_pairs_answer_is_kept_for_its_medicines_doses_and_day():
    first = check(entries("sertraline", "tramadol")).pairs[0]
    # The same two medicines further down another list: the same answer, placed at their positions.
    moved = check(entries("acetaminophen", "sertraline", "tramadol")).pairs[2]
    assert moved.entries == (1, 2) and moved.answer is first.answer
    assert [f.entries for f in moved.findings] == [(1, 2)] * len(first.findings)
    assert [f.content_key for f in moved.findings] == [f.content_key for f in first.findings]
    # Another order (the first medicine on the list is side A), dose or day is another answer.
    assert check(entries("tramadol", "sertraline")).pairs[0].answer is not first.answer
    assert check(entries(("naltrexone", "naltrexone-low-dose"), "tramadol")).pairs[0].answer is not (
        check(entries(("naltrexone", "naltrexone-injection"), "tramadol")).pairs[0].answer
    )
    later = check(entries("sertraline", "tramadol"), today=date(2099, 1, 1)).pairs[0]
    assert later.answer is not first.answer


def test_findings_are_placed_from_the_pairs_answers_in_page_order():
    result = check(entries(*THIRTY))
    placed = [f for pair in result.pairs for f in pair.findings] + result.list_findings
    ranks = sorted({f.severity_rank for f in placed}, reverse=True)
    # Most severe first; at each severity the pairs in list order, each pair's answer in its own order.
    expected = [(f.entries, f.content_key) for rank in ranks for f in placed if f.severity_rank == rank]
    assert [(f.entries, f.content_key) for f in result.findings] == expected
    assert len(result.findings) > len(result.pairs) / 2
    assert result.findings is result.findings  # placed once, when first asked for


def test_entry_numbers_are_bounded_and_never_reused(monkeypatch):
    from interactions import checker

    content = checker.build_content()
    monkeypatch.setattr(checker, "PAIR_CACHE_SIZE", 2)
    numbers = [content.number(("entry", n)) for n in range(5)]
    assert len(content._numbers) <= 2
    assert numbers == sorted(set(numbers))  # each new key a new number, after the store was emptied too
    assert content.number(("entry", 4)) == numbers[-1]
