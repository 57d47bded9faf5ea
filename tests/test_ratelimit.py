"""The rate limiter's window: it opens at a client's first request, refuses past the budget until it
closes, says how long is left, and a new one opens after it; with local memory and a shared Redis."""

from __future__ import annotations

import os
import time

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from core.ratelimit import _hashed, over_budget
from tests.servers import RedisServer

ADDRESS = "198.51.100.7"


@pytest.fixture(scope="module")
def redis_url():
    if not os.path.exists(RedisServer.BINARY):
        pytest.fail("This test needs Debian's redis-server: run 'make test', which installs it.")
    redis = RedisServer()
    yield redis.url
    redis.stop()


@pytest.fixture(params=["local memory", pytest.param("redis", marks=pytest.mark.processes)])
def backend(request, settings):
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            **settings.CACHES,
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
        }
        cache.clear()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "check": 3}
    settings.RATE_LIMIT_WINDOW_SECONDS = 60
    yield request.param
    cache.clear()


def request():
    return RequestFactory().get("/check/", REMOTE_ADDR=ADDRESS)


def waits(count: int) -> list[int]:
    return [over_budget(request(), "check") for _ in range(count)]


def test_the_budget_is_counted_from_the_first_request_and_the_wait_is_what_is_left(backend, later):
    assert waits(3) == [0, 0, 0]
    later(20)
    assert waits(1) == [40]
    later(30)
    assert waits(1) == [10]


def test_a_new_window_opens_when_the_last_one_closes(backend, settings):
    settings.RATE_LIMIT_WINDOW_SECONDS = 1  # Redis expires keys by its own clock: no time travel
    assert waits(4) == [0, 0, 0, 1]
    time.sleep(1.1)
    assert waits(4) == [0, 0, 0, 1]


def test_a_count_that_outlived_its_window_starts_a_new_one(backend):
    # What Redis leaves when an increment meets the key's expiry: a count that never expires, without
    # the window's start. It must not refuse the address for ever.
    cache.set(f"ratelimit:check:{_hashed(ADDRESS)}:count", 100, timeout=None)
    assert waits(3) == [0, 0, 0]
    assert waits(1)[0] > 0
