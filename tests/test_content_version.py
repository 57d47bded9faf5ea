"""The content version: one plain query reads what the cache API wrote, on every database."""

import pytest
from django.core.cache import caches
from django.db import transaction

from core import content_version

pytestmark = pytest.mark.django_db


def test_the_version_read_is_what_the_cache_holds(django_assert_num_queries):
    store = caches[content_version.VERSION_CACHE]
    store.delete(content_version.VERSION_KEY)
    with django_assert_num_queries(1):
        assert content_version.current() == "initial"
    content_version.bump()
    with django_assert_num_queries(1):
        token = content_version.current()
    assert token == store.get(content_version.VERSION_KEY) != "initial"
    store.set(content_version.VERSION_KEY, "a token an older release wrote", timeout=None)
    assert content_version.current() == "a token an older release wrote"


def test_each_bump_is_seen_and_a_rolled_back_one_is_not():
    content_version.bump()
    seen = {content_version.current()}
    for _ in range(3):
        content_version.bump()
        seen.add(content_version.current())
    assert len(seen) == 4
    before = content_version.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        content_version.bump()
        assert content_version.current() != before
        raise RuntimeError("an edit that failed")
    assert content_version.current() == before
