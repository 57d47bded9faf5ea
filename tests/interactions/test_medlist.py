import json

import pytest
from django.test import RequestFactory

from interactions import medlist
from interactions.medlist import MedEntry, MedList

pytestmark = pytest.mark.django_db


def request_with(cookie_value):
    request = RequestFactory().get("/check/")
    request.COOKIES[medlist.cookie_name()] = cookie_value
    return request


def test_a_list_round_trips_through_the_encrypted_cookie():
    original = MedList([MedEntry("naltrexone", "naltrexone-injection"), MedEntry("oxycodone")])
    loaded = medlist.load(request_with(medlist.encode(original)))
    assert loaded.entries == original.entries
    assert loaded.notice == ""


def test_the_cookie_does_not_reveal_the_list():
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    assert "oxycodone" not in token
    import base64

    assert b"oxycodone" not in base64.urlsafe_b64decode(token + "==")


@pytest.mark.parametrize("value", ["garbage", "gAAAAA" + "x" * 80, "", "%%%"])
def test_a_tampered_cookie_is_dropped_with_a_notice(value):
    loaded = medlist.load(request_with(value))
    assert loaded.entries == []
    assert loaded.notice or value == ""


def test_a_modified_token_is_rejected():
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    loaded = medlist.load(request_with(flipped))
    assert loaded.entries == []
    assert "could not be read" in loaded.notice


def test_an_idle_list_expires(settings, monkeypatch):
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + settings.MEDLIST_IDLE_SECONDS + 5)
    loaded = medlist.load(request_with(token))
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
    loaded = medlist.load(request_with(_token(payload)))
    assert loaded.entries == []
    assert loaded.notice


def test_unknown_slugs_and_regimens_are_dropped_with_a_notice():
    payload = {"v": 1, "e": [["oxycodone", ""], ["no-such-medicine", ""], ["naltrexone", "not-a-regimen"]]}
    loaded = medlist.load(request_with(_token(payload)))
    assert loaded.entries == [MedEntry("oxycodone"), MedEntry("naltrexone", None)]
    assert "no longer in our catalog" in loaded.notice


def test_duplicate_adds_are_ignored():
    items = MedList()
    assert items.add("oxycodone") == "added"
    assert items.add("oxycodone") == "duplicate"
    assert items.entries == [MedEntry("oxycodone")]


def test_a_list_holds_at_most_thirty(settings):
    items = MedList([MedEntry(f"m{i}") for i in range(settings.MEDLIST_MAX_ENTRIES)])
    assert items.add("one-more") == "full"
    assert len(items.entries) == 30


def test_loading_runs_two_queries_whatever_the_size(django_assert_num_queries):
    token = medlist.encode(MedList([MedEntry(s) for s in ["oxycodone", "naltrexone", "sertraline", "tramadol"]]))
    with django_assert_num_queries(2):
        medlist.load(request_with(token))


def test_an_add_that_would_not_fit_in_the_cookie_is_refused_and_the_list_kept():
    # 30 long names: a browser would silently drop a cookie this large.
    items = MedList()
    outcomes = [items.add(f"medicine-with-a-very-long-name-{i:02d}-" + "x" * 80, None, "Brand" * 10) for i in range(30)]
    assert "too-big" in outcomes
    kept = outcomes.index("too-big")
    assert outcomes[:kept] == ["added"] * kept
    assert len(medlist.encode(items)) <= medlist.COOKIE_MAX_BYTES
    assert len(items.entries) == kept


def test_patient_copy_follows_the_idle_and_size_settings(client, settings):
    settings.MEDLIST_IDLE_SECONDS = 4 * 3600
    html = client.get("/check/").content.decode() + client.get("/privacy/").content.decode()
    assert "after 4 hours without use" in html
    assert "2 hours" not in html
