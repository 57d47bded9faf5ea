import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interactions.search import (
    TIER_EXACT,
    TIER_FUZZY,
    TIER_PREFIX,
    SearchInputError,
    best_match,
    get_index,
    invalidate_index,
    parse_strength,
    search,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("zoloft", "sertraline"),
        ("Zoloft", "sertraline"),
        ("sertraline", "sertraline"),
        ("Sertaline", "sertraline"),  # missing letter
        ("sertarline", "sertraline"),  # extra letter
        ("setraline", "sertraline"),
        ("zolfot", "sertraline"),  # swapped letters
        ("prozac", "fluoxetine"),
        ("welbutrin", "bupropion"),
        ("ibuprofin", "ibuprofen"),
        ("amitryptiline", "amitriptyline"),
        ("oxycontin", "oxycodone"),
        ("VIVITROL", "naltrexone"),
        ("naltrexon", "naltrexone"),
        ("kratom", "kratom"),
        ("Contrave", "naltrexone-and-bupropion"),
        ("Suboxone", "buprenorphine-naloxone"),
        ("St. John's Wort", "st-johns-wort"),
        ("  ZOLOFT  ", "sertraline"),
    ],
)
def test_it_finds_what_people_type(typed, slug):
    assert best_match(typed).slug == slug


def test_brands_are_shown_with_their_generic():
    result = best_match("zoloft")
    assert result.matched_name == "Zoloft"
    assert result.is_brand
    assert result.label == "Zoloft (sertraline)"


def test_a_generic_name_is_shown_plainly():
    assert best_match("sertraline").label == "Sertraline"


def test_exact_matches_come_before_prefix_and_typo_matches():
    results = [(r.slug, r.tier) for r in search("naltrexone", limit=5)]
    assert results[0] == ("naltrexone", TIER_EXACT)
    assert ("naltrexone-and-bupropion", TIER_PREFIX) in results
    assert {tier for _, tier in results[1:]} == {TIER_PREFIX}  # the full dictionary adds more combinations
    typo = [(r.slug, r.tier) for r in search("naltrexne", limit=5)]
    assert typo[0] == ("naltrexone", TIER_FUZZY)
    assert {tier for _, tier in typo} == {TIER_FUZZY}


def test_a_prefix_finds_the_medicine():
    slugs = [r.slug for r in search("naltr", limit=10)]
    assert "naltrexone" in slugs


def test_curated_medicines_rank_first_among_equal_matches():
    first = search("naltrexone and", limit=3)[0]
    assert first.slug == "naltrexone-and-bupropion"


@pytest.mark.parametrize(
    ("typed", "regimen"),
    [
        ("naltrexone 4.5 mg", "naltrexone-low-dose"),
        ("naltrexone 4.5mg", "naltrexone-low-dose"),
        ("naltrexone 1 mg", "naltrexone-low-dose"),
        ("naltrexone 50 mg", "naltrexone-tablet"),
        ("naltrexone 50 milligrams", "naltrexone-tablet"),
        ("naltrexone 380 mg", "naltrexone-injection"),
        ("VIVITROL", "naltrexone-injection"),
        ("LDN", "naltrexone-low-dose"),
        ("naltrexone", None),
        ("naltrexone 7000 mg", None),
    ],
)
def test_a_strength_or_brand_selects_the_regimen(typed, regimen):
    result = best_match(typed)
    assert result.slug == "naltrexone"
    assert result.regimen == regimen


def test_parse_strength_splits_name_and_dose():
    assert parse_strength("naltrexone 4,5 mg")[1] == parse_strength("naltrexone 4.5 mg")[1]
    assert parse_strength("zoloft") == ("zoloft", None)


@pytest.mark.parametrize("text", ["", "   ", "\x00", None])
def test_empty_input_gets_a_clear_message(text):
    with pytest.raises(SearchInputError, match="Type the name"):
        search(text)


def test_huge_input_gets_a_clear_message():
    with pytest.raises(SearchInputError, match="too long"):
        search("a" * 10_000)


@pytest.mark.parametrize(
    ("text", "slugs"),
    [
        ("'; DROP TABLE interactions_medication; --", []),
        ("ｚｏｌｏｆｔ", ["sertraline"]),  # fullwidth letters are folded
        ("Z̷o̷l̷o̷f̷t̷", []),
        ("💊💊", []),
        ("\u202ezoloft", ["sertraline"]),  # a direction mark is dropped
        ("%_%", []),  # SQL wildcards match nothing, not everything
        ("zoloft\x00", ["sertraline"]),
    ],
)
def test_odd_input_is_answered_without_error(text, slugs):
    assert [r.slug for r in search(text)] == slugs


def test_fullwidth_letters_are_folded():
    assert best_match("ｚｏｌｏｆｔ").slug == "sertraline"


def test_unknown_names_find_nothing():
    assert search("qwzxqwzx") == []


@given(text=st.text(min_size=1, max_size=100))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_gives_a_list_or_a_clear_error(text):
    try:
        results = search(text, limit=5)
    except SearchInputError:
        return
    assert len(results) <= 5
    assert all(r.slug and r.name for r in results)


def test_building_the_index_takes_five_queries_and_a_search_one(django_assert_num_queries):
    invalidate_index()
    with django_assert_num_queries(5):
        get_index()
    for text in ("zoloft", "sertaline", "naltrexone 4.5 mg"):
        with django_assert_num_queries(1):  # the content version
            search(text)


def test_the_index_follows_catalog_changes():
    from interactions.models import Medication, MedicationName

    assert search("frobnizol") == []
    med = Medication.objects.create(name="Frobnizol", slug="frobnizol")
    MedicationName.objects.create(medication=med, name="Frobnizol")
    assert best_match("frobnizol").slug == "frobnizol"
