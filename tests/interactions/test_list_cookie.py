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


def test_an_idle_list_expires(settings, later):
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    later(settings.MEDLIST_IDLE_SECONDS + 5)
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


def written(saved: MedList) -> str | None:
    """The cookie value save() writes for the list, or None when it leaves the cookie as it is."""
    response = HttpResponse()
    list_cookie.save(response, saved)
    morsel = response.cookies.get(medlist.cookie_name())
    return morsel.value if morsel is not None else None


def test_an_unchanged_list_from_a_fresh_cookie_is_not_written_again():
    token = medlist.encode(MedList([MedEntry("oxycodone"), MedEntry("naltrexone", "naltrexone-injection")]))
    assert written(list_cookie.load(request_with(token))) is None


def test_an_unchanged_list_is_written_again_once_its_cookie_is_a_minute_old(later):
    saved = MedList([MedEntry("oxycodone")])
    token = medlist.encode(saved)
    later(58)  # Fernet keeps whole seconds: a token can be nearly a second older than it says
    assert written(list_cookie.load(request_with(token))) is None
    later(3)  # 61 seconds in all
    renewed = written(list_cookie.load(request_with(token)))
    assert renewed is not None
    again = medlist.decode(renewed)
    assert (again.entries, again.key) == (saved.entries, saved.key)
    issued = medlist._fernet().extract_timestamp
    assert issued(renewed.encode()) >= issued(token.encode()) + 60


@pytest.mark.parametrize(("idle", "interval"), [(7200, 60), (3600, 60), (1200, 20), (600, 10)])
def test_the_refresh_interval_is_a_minute_or_a_sixtieth_of_a_shorter_idle_time(settings, later, idle, interval):
    settings.MEDLIST_IDLE_SECONDS = idle
    assert medlist.refresh_seconds() == interval
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    later(interval - 2)
    assert written(list_cookie.load(request_with(token))) is None
    later(3)
    assert written(list_cookie.load(request_with(token))) is not None


@pytest.mark.parametrize(
    "change",
    [
        lambda saved: saved.add("sertraline"),
        lambda saved: saved.remove("oxycodone"),
        lambda saved: saved.set_regimen("naltrexone", "naltrexone-tablet"),
        lambda saved: setattr(saved, "notice", "Added Zoloft."),
    ],
)
def test_a_changed_list_is_always_written(change):
    token = medlist.encode(MedList([MedEntry("oxycodone"), MedEntry("naltrexone", "naltrexone-injection")]))
    saved = list_cookie.load(request_with(token))
    change(saved)
    assert medlist.decode(written(saved)).entries == saved.entries


def test_clearing_a_notice_writes_the_list():
    token = medlist.encode(MedList([MedEntry("oxycodone")], notice="Added Oxycodone."))
    saved = list_cookie.load(request_with(token))
    saved.notice = ""
    assert medlist.decode(written(saved)).notice == ""


def test_a_list_with_medicines_the_catalog_dropped_is_written():
    saved = list_cookie.load(request_with(_token({"v": 1, "e": [["oxycodone", ""], ["no-such-medicine", ""]]})))
    saved.notice = ""
    assert medlist.decode(written(saved)).entries == [MedEntry("oxycodone")]


def test_a_list_saved_before_lists_had_keys_is_written_so_its_new_key_sticks():
    saved = list_cookie.load(request_with(_token({"v": 1, "e": [["oxycodone", ""]]})))
    assert medlist.decode(written(saved)).key == saved.key


def test_a_new_list_is_always_written():
    assert written(MedList([MedEntry("oxycodone")])) is not None


def test_the_cookie_is_decrypted_once_a_request(monkeypatch):
    request = request_with(medlist.encode(MedList([MedEntry("oxycodone")])))
    calls = []
    real = list_cookie.decode
    monkeypatch.setattr(list_cookie, "decode", lambda raw: calls.append(raw) or real(raw))
    key = list_cookie.list_key(request)
    first, second = list_cookie.load(request), list_cookie.load(request)
    assert len(calls) == 1
    assert first.key == second.key == key
    first.entries.append(MedEntry("sertraline"))  # a page changing its list leaves the request's copy alone
    assert second.entries == [MedEntry("oxycodone")]
    request.COOKIES[medlist.cookie_name()] = "garbage"
    assert list_cookie.load(request).notice and len(calls) == 2
