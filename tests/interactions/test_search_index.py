"""The search index: typo candidates from letter-pair buckets, short prefixes from a table, no typo pass
when the page is already full, a rebuild in the background that searches never wait for, and the
requests gunicorn's workers make to their master for a new shared index (once per content version)."""

from __future__ import annotations

import os
import time

import pytest

from core import content_version
from interactions import search as search_module
from interactions.models import Medication, MedicationName, normalize_name
from interactions.search import (
    ASK_MASTER,
    MASTER_ANSWER_SECONDS,
    REBUILD_HERE,
    WAIT_FOR_MASTER,
    answer_requests,
    ask_master,
    best_match,
    forget_requests,
    get_index,
    invalidate_index,
    open_requests,
    rebuild_for_new_workers,
    request_path,
    search,
    wait_for_rebuild,
)

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


# --- requests to gunicorn's master -------------------------------------------------------------------


def test_only_the_first_worker_to_find_its_index_out_of_date_asks_the_master(tmp_path):
    assert ask_master(tmp_path, "v2", worker_age=3) == ASK_MASTER
    assert ask_master(tmp_path, "v2", worker_age=4) == WAIT_FOR_MASTER  # the other worker
    assert ask_master(tmp_path, "v2", worker_age=3) == WAIT_FOR_MASTER  # the first one, on its next search
    assert ask_master(tmp_path, "v3", worker_age=4) == ASK_MASTER  # a version moved on is asked again
    assert set(open_requests(tmp_path)) == {request_path(tmp_path, "v2"), request_path(tmp_path, "v3")}


def test_workers_forked_before_the_answer_wait_and_those_forked_after_it_rebuild_their_own(tmp_path):
    assert ask_master(tmp_path, "v2", worker_age=3) == ASK_MASTER
    answer_requests(open_requests(tmp_path), worker_age=4)  # the reload: new workers are 5 and 6
    assert open_requests(tmp_path) == []
    assert ask_master(tmp_path, "v2", worker_age=3) == WAIT_FOR_MASTER  # being stopped by the reload
    assert ask_master(tmp_path, "v2", worker_age=4) == WAIT_FOR_MASTER
    # Forked after the answer and still out of date for v2: the master's build failed.
    assert ask_master(tmp_path, "v2", worker_age=5) == REBUILD_HERE
    assert [path.name for path in tmp_path.iterdir()] == [request_path(tmp_path, "v2").name]


def test_a_request_the_master_never_answers_is_given_up(tmp_path):
    assert ask_master(tmp_path, "v2", worker_age=3) == ASK_MASTER
    later = time.time() + MASTER_ANSWER_SECONDS
    assert ask_master(tmp_path, "v2", worker_age=4, now=later - 60) == WAIT_FOR_MASTER
    assert ask_master(tmp_path, "v2", worker_age=4, now=later + 1) == REBUILD_HERE


def test_the_master_forgets_answered_requests_but_the_current_versions_and_the_open_ones(tmp_path):
    for version in ("v1", "v2"):
        ask_master(tmp_path, version, worker_age=3)
    answer_requests(open_requests(tmp_path), worker_age=4)
    ask_master(tmp_path, "v3", worker_age=5)  # made during the build: waits for its own HUP
    forget_requests(tmp_path, keep="v2")
    assert {path.name for path in tmp_path.iterdir()} == {request_path(tmp_path, v).name for v in ("v2", "v3")}
    assert open_requests(tmp_path) == [request_path(tmp_path, "v3")]
    # The workers still finishing their last requests on v1's index do not ask for v2 a second time.
    assert ask_master(tmp_path, "v2", worker_age=4) == WAIT_FOR_MASTER


@pytest.fixture
def shared_requests():
    """This process as gunicorn's master sharing its index: its requests directory, removed after."""
    requests = search_module.share_with_workers()
    yield requests
    search_module.stop_sharing()
    assert not requests.exists()


def test_a_failed_build_in_the_master_still_answers_so_its_new_workers_rebuild_their_own(shared_requests, monkeypatch):
    invalidate_index()
    old = get_index()
    content_version.bump()  # a publish
    version = content_version.current()
    assert ask_master(shared_requests, version, worker_age=3) == ASK_MASTER
    # The build's child process cannot start Django: a real failure, as when it runs out of memory.
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.no_such_settings")
    with pytest.raises(RuntimeError, match="the index build exited with 1"):
        rebuild_for_new_workers(worker_age=4)
    assert search_module._index is old  # the master keeps serving its forks the previous index
    assert open_requests(shared_requests) == []
    assert ask_master(shared_requests, version, worker_age=4) == WAIT_FOR_MASTER
    assert ask_master(shared_requests, version, worker_age=5) == REBUILD_HERE
    assert os.listdir(shared_requests) == [request_path(shared_requests, version).name]


def test_the_master_does_not_build_when_its_index_is_current(shared_requests):
    invalidate_index()
    index = get_index()
    assert rebuild_for_new_workers(worker_age=2) is None  # an operator's HUP, nothing published
    assert search_module._index is index


def test_the_master_makes_its_requests_directory_again_where_its_workers_look(shared_requests):
    shared_requests.rmdir()  # a temp cleaner, after days without a publish
    assert search_module.share_with_workers() == shared_requests  # at the next HUP
    assert ask_master(shared_requests, "v2", worker_age=3) == ASK_MASTER
