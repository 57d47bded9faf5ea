"""The search index: typo candidates from letter-pair buckets, short prefixes from a table, no typo pass
when the page is already full, and a rebuild in the background that searches never wait for."""

from __future__ import annotations

import pytest

from interactions import search as search_module
from interactions.models import Medication, MedicationName, normalize_name
from interactions.search import best_match, get_index, invalidate_index, search, wait_for_rebuild

pytestmark = pytest.mark.django_db


def add_medicines(names: list[str], *, per_medicine: int = 1) -> None:
    """Tiny made-up medicines; each name also gets `per_medicine - 1` variants ("<name> 2", ...)."""
    meds = Medication.objects.bulk_create(Medication(name=name, slug=normalize_name(name)) for name in names)
    MedicationName.objects.bulk_create(
        MedicationName(medication=med, name=variant, normalized=normalize_name(variant))
        for med in meds
        for variant in [med.name, *(f"{med.name} {n}" for n in range(2, per_medicine + 1))]
    )


def test_a_misspelling_is_found_through_the_letter_pair_buckets():
    add_medicines(["Quorvendil"])
    index = get_index()
    assert best_match("quorvendli").slug == "quorvendil"  # the last two letters swapped
    in_reach = sum(len(index.by_length[length]) for length in (8, 9, 10, 11, 12))
    assert index.stats.typo_passes == 1
    assert 0 < index.stats.typo_names_compared < in_reach / 4  # not every name of those lengths


def test_a_typo_two_edits_away_is_still_found():
    add_medicines(["Quorvendilamine"])
    assert best_match("qourvendilamne").slug == "quorvendilamine"  # a swap and a dropped letter


def test_no_typo_pass_runs_when_exact_and_prefix_matches_fill_the_page():
    add_medicines(["Zuvaxa", "Zuvaxb", "Zuvaxc"])
    index = get_index()
    results = search("zuvax", limit=3)
    assert [r.slug for r in results] == ["zuvaxa", "zuvaxb", "zuvaxc"]
    assert {r.tier for r in results} == {search_module.TIER_PREFIX}
    assert index.stats.typo_passes == 0
    search("zuvax", limit=4)  # room left on the page: typo guesses may fill it
    assert index.stats.typo_passes == 1


def test_a_short_prefix_is_answered_from_the_table_as_the_scan_answers_it():
    # 60 medicines with 5 names each: "q" and "qx" match more names than the table's threshold.
    add_medicines([f"Qx{chr(97 + i // 26)}{chr(97 + i % 26)}zol" for i in range(60)], per_medicine=5)
    index = get_index()
    assert {"q", "qx"} <= set(index.prefix_table)
    for typed in ("q", "Q", "qx", "qxa"):
        for limit in (1, 10, 50):
            before = index.stats.prefix_table_answers
            from_table = index.lookup(typed, limit)
            answered = index.stats.prefix_table_answers - before
            assert from_table == index.lookup(typed, limit, prefix_table=False), (typed, limit)
            assert from_table
            assert answered == (typed.lower() in index.prefix_table)
    assert index.stats.typo_passes == 0


def test_the_table_keeps_the_ranking_curated_exact_and_short_first():
    add_medicines([f"Qy{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(60)], per_medicine=5)
    Medication.objects.filter(slug="qybh").update(curated=True)
    invalidate_index()
    results = search("qy", limit=5)
    assert results[0].slug == "qybh"
    assert [len(r.name) for r in results[1:]] == [4, 4, 4, 4]


@pytest.mark.dictionary
def test_every_short_prefix_of_the_dictionary_gives_what_the_scan_gives():
    index = get_index()
    prefixes = sorted(key for key in index.prefix_table if len(key) <= 2)
    assert len(prefixes) > 26
    for typed in prefixes:
        assert index.lookup(typed, 10) == index.lookup(typed, 10, prefix_table=False), typed


@pytest.mark.django_db(transaction=True)
def test_a_save_does_not_make_the_next_search_wait_for_the_rebuild(
    transactional_db, seeded, settings, django_assert_num_queries
):
    settings.SEARCH_INDEX_REBUILD = "background"
    invalidate_index()
    old = get_index()
    # While this test holds the build lock the background rebuild cannot finish: a search that waited
    # for it (or built the index itself, which would take the lock again in this thread) would see
    # Frobnizol. It must get the old index at once.
    with search_module._build_lock:
        add_medicines(["Frobnizol"])
        with django_assert_num_queries(1):  # the content version; the build is not this search's
            assert search("frobnizol") == []
        assert get_index() is old
        rebuild = search_module._rebuild
        assert rebuild is not None and rebuild.is_alive()
    wait_for_rebuild()
    assert get_index() is not old
    assert best_match("frobnizol").slug == "frobnizol"
