"""The list's cookie as the pages and the rate limiter read and write it."""

import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.module_loading import import_string

from interactions import list_cookie, medlist
from interactions.checker import reviewed_content
from interactions.medlist import MedEntry, MedList
from tests.medicines import THIRTY

pytestmark = pytest.mark.django_db


def request_with(cookie_value):
    request = RequestFactory().get("/check/")
    request.COOKIES[medlist.cookie_name()] = cookie_value
    return request


def test_a_list_round_trips_through_the_encrypted_cookie():
    original = MedList([MedEntry("naltrexone", "naltrexone-injection"), MedEntry("oxycodone")])
    loaded = list_cookie.load(request_with(medlist.encode(original)))
    assert loaded.entries == original.entries
    assert loaded.notice == ""


@pytest.mark.parametrize("value", ["garbage", "gAAAAA" + "x" * 80, "", "%%%"])
def test_a_tampered_cookie_is_dropped_with_a_notice(value):
    loaded = list_cookie.load(request_with(value))
    assert loaded.entries == []
    assert loaded.notice or value == ""


def test_a_modified_token_is_rejected():
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    loaded = list_cookie.load(request_with(flipped))
    assert loaded.entries == []
    assert "could not be read" in loaded.notice


def test_an_idle_list_expires(settings, monkeypatch):
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + settings.MEDLIST_IDLE_SECONDS + 5)
    loaded = list_cookie.load(request_with(token))
    assert loaded.entries == []
    assert "expired" in loaded.notice


def _token(payload) -> str:
    return medlist._fernet().encrypt(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 99, "e": []},
        {"v": 1, "e": "oxycodone"},
        {"v": 1, "e": [["oxycodone"]]},
        {"v": 1, "e": [[1, 2]]},
        {"v": 1, "e": [["oxycodone", ""]] * 31},
        ["not", "a", "dict"],
        "text",
    ],
)
def test_a_list_of_the_wrong_shape_is_dropped(payload):
    loaded = list_cookie.load(request_with(_token(payload)))
    assert loaded.entries == []
    assert loaded.notice


def test_unknown_slugs_and_regimens_are_dropped_with_a_notice():
    payload = {"v": 1, "e": [["oxycodone", ""], ["no-such-medicine", ""], ["naltrexone", "not-a-regimen"]]}
    loaded = list_cookie.load(request_with(_token(payload)))
    assert loaded.entries == [MedEntry("oxycodone"), MedEntry("naltrexone", None)]
    assert "no longer in our catalog" in loaded.notice


@pytest.mark.parametrize("size", [4, 30])
def test_loading_reads_only_the_content_version_whatever_the_size(size, django_assert_num_queries):
    """The medicines come from the checker's reviewed content, kept per content version and process."""
    token = medlist.encode(MedList([MedEntry(s) for s in THIRTY[:size]]))
    list_cookie.load(request_with(token))  # this process has now seen these medicines
    with django_assert_num_queries(1):
        assert len(list_cookie.load(request_with(token)).entries) == size
    content = reviewed_content()
    with django_assert_num_queries(0):
        assert len(list_cookie.load(request_with(token), content=content).entries) == size


def test_the_key_is_read_without_queries_and_never_from_a_bad_cookie(django_assert_num_queries):
    saved = MedList([MedEntry("oxycodone")])
    with django_assert_num_queries(0):
        assert list_cookie.list_key(request_with(medlist.encode(saved))) == saved.key
        assert list_cookie.list_key(request_with("garbage")) is None
        assert list_cookie.list_key(RequestFactory().get("/")) is None


def test_the_rate_limiter_reads_the_key_through_the_setting(settings):
    assert import_string(settings.RATE_LIMIT_LIST_KEY) is list_cookie.list_key


def test_saving_sets_a_private_session_cookie_and_an_empty_list_deletes_it(settings):
    response = HttpResponse()
    list_cookie.save(response, MedList([MedEntry("oxycodone")]))
    cookie = response.cookies[medlist.cookie_name()]
    assert medlist.decode(cookie.value).entries == [MedEntry("oxycodone")]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/" and not cookie["max-age"]
    assert bool(cookie["secure"]) is not settings.DEBUG

    emptied = HttpResponse()
    list_cookie.save(emptied, MedList())
    assert emptied.cookies[medlist.cookie_name()].value == ""
    assert emptied.cookies[medlist.cookie_name()]["max-age"] == 0
