"""A clinic's waiting room on one Wi-Fi address can use the site: reads are far looser than writes,
and each medication list has budgets of its own beside the address's."""

from __future__ import annotations

import pytest
from django.test import Client

from interactions import list_cookie

pytestmark = pytest.mark.django_db

CLINIC = "203.0.113.50"
MEDICINES = ["zoloft", "tramadol", "ibuprofen"]


def visitor() -> Client:
    return Client(REMOTE_ADDR=CLINIC)


def test_reads_are_far_looser_than_writes(settings):
    for read in ("search", "check"):
        assert settings.RATE_LIMITS[read] >= 4 * settings.RATE_LIMITS["edit"]
        assert settings.RATE_LIMITS_PER_LIST[read] >= 4 * settings.RATE_LIMITS_PER_LIST["edit"]
    for scope, budget in settings.RATE_LIMITS_PER_LIST.items():
        assert budget < settings.RATE_LIMITS[scope]  # one person never uses up the room's budget


def test_a_waiting_room_of_twenty_people_on_one_address_is_never_refused():
    statuses = []
    for _person in range(20):
        client = visitor()
        statuses.append(client.get("/check/").status_code)  # the first visit
        statuses.append(client.get("/medications/", {"q": "sertraline"}).status_code)
        for name in MEDICINES:
            statuses.append(client.post("/check/add/", {"q": name}).status_code)
            statuses.append(client.get("/check/").status_code)
    assert 429 not in statuses
    assert set(statuses) <= {200, 302}


def test_one_busy_list_meets_its_own_budget_and_the_room_carries_on(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "edit": 10}
    settings.RATE_LIMITS_PER_LIST = {**settings.RATE_LIMITS_PER_LIST, "edit": 3}
    busy = visitor()
    assert busy.post("/check/add/", {"q": "zoloft"}).status_code == 302  # counted by address: no list yet
    statuses = [busy.post("/check/add/", {"q": name}).status_code for name in ["tramadol", "ibuprofen"] * 10]
    assert statuses[:3] == [302, 302, 302]
    assert set(statuses[3:]) == {429}
    # The busy list's refused requests did not count against the address: the rest of the room edits.
    for _person in range(3):
        neighbour = visitor()
        assert neighbour.post("/check/add/", {"q": "zoloft"}).status_code == 302
        assert neighbour.post("/check/add/", {"q": "tramadol"}).status_code == 302


def test_dropping_the_list_cookie_leaves_the_address_budget(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "edit": 4}
    statuses = [visitor().post("/check/add/", {"q": "zoloft"}).status_code for _ in range(6)]
    assert statuses == [302] * 4 + [429] * 2


def test_a_list_keeps_its_key_and_the_key_says_nothing_about_it(client):
    client.post("/check/add/", {"q": "zoloft"})
    first = list_cookie.list_key(_request_with(client))
    client.post("/check/add/", {"q": "tramadol"})
    assert list_cookie.list_key(_request_with(client)) == first
    assert first and "sertraline" not in first and "zoloft" not in first
    other = Client()
    other.post("/check/add/", {"q": "zoloft"})
    assert list_cookie.list_key(_request_with(other)) != first


def _request_with(client: Client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return request
