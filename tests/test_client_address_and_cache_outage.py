"""Who a request comes from, behind proxies that append; and pages that keep serving when the shared
cache (Redis) is down."""

import logging

import pytest
from django.test import RequestFactory, override_settings

from core.ratelimit import client_address, over_budget

FORWARDED = "HTTP_X_FORWARDED_FOR"


def request_from(forwarded: str | None, remote: str = "10.0.0.1"):
    extra = {FORWARDED: forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


@override_settings(CLIENT_IP_HEADER=FORWARDED, TRUSTED_PROXY_COUNT=1)
def test_a_spoofed_leftmost_entry_is_not_trusted():
    # The client sent "6.6.6.6" itself; nginx appended the address it really came from.
    assert client_address(request_from("6.6.6.6, 203.0.113.7")) == "203.0.113.7"


@override_settings(CLIENT_IP_HEADER=FORWARDED, TRUSTED_PROXY_COUNT=2)
def test_with_two_proxies_the_client_is_second_from_the_right():
    assert client_address(request_from("6.6.6.6, 203.0.113.7, 10.0.0.9")) == "203.0.113.7"


@override_settings(CLIENT_IP_HEADER=FORWARDED, TRUSTED_PROXY_COUNT=2)
def test_too_few_entries_fall_back_to_the_socket_address():
    assert client_address(request_from("203.0.113.7")) == "10.0.0.1"


@override_settings(CLIENT_IP_HEADER="", TRUSTED_PROXY_COUNT=0)
def test_without_a_proxy_the_header_is_ignored():
    assert client_address(request_from("6.6.6.6")) == "10.0.0.1"


@override_settings(CLIENT_IP_HEADER=FORWARDED, TRUSTED_PROXY_COUNT=1, RATE_LIMITS={"check": 2, "search": 2, "api": 2})
def test_a_client_cannot_escape_the_limit_by_changing_the_spoofed_entry():
    waits = [over_budget(request_from(f"6.6.6.{n}, 203.0.113.7"), "check") for n in range(4)]
    assert waits[:2] == [0, 0]
    assert all(wait > 0 for wait in waits[2:])


DOWN = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    # Nothing listens on port 1: every call fails at once, as when Redis is down.
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
}


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {**settings.CACHES, "default": DOWN}
    yield


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/check/", "/medications/?q=zoloft", "/api/v1/medications?q=zoloft", "/api/v1/check?med=zoloft"]
)
def test_pages_keep_serving_when_the_cache_is_down(client, cache_down, url, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get(url)
    assert response.status_code == 200
    assert any("cache unavailable" in record.message.lower() for record in caplog.records)


@pytest.mark.django_db
def test_adding_to_the_list_works_when_the_cache_is_down(client, cache_down):
    response = client.post("/check/add/", {"q": "zoloft"})
    assert response.status_code == 302
    assert "Zoloft (sertraline)" in client.get("/check/").content.decode()


@pytest.mark.django_db
def test_healthz_reports_the_cache_apart_and_degraded_is_not_ok(client, cache_down):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": True, "cache": False}


@pytest.mark.django_db
def test_healthz_is_ok_with_both_up(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": True, "cache": True}
