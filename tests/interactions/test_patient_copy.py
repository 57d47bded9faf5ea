"""Patient copy reads its numbers from settings, so it stays true when an operator changes them."""

import pytest
from django.urls import reverse

from interactions import medlist
from interactions.context_processors import plain_duration
from interactions.medlist import MedEntry, MedList
from tests.medicines import THIRTY

pytestmark = pytest.mark.django_db
CHECK = reverse("interactions:check")
PRIVACY = reverse("privacy")
ADD = reverse("interactions:check_add")
FULL = "Your list is full. You can check up to {max} medicines at a time. Remove one to add another."


def idle_copy(client) -> tuple[str, str]:
    return client.get(CHECK).content.decode(), client.get(PRIVACY).content.decode()


def full_list_message(client, size: int) -> str:
    """The notice after adding one medicine too many to a list of `size`."""
    client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry(slug) for slug in THIRTY[:size]]))
    client.post(ADD, {"pick": "naproxen"})
    html = client.get(CHECK).content.decode()
    return html[html.index("Your list is full") :].split("<", 1)[0]


def test_by_default_a_list_is_removed_after_2_hours_and_holds_30_medicines(client):
    check, privacy = idle_copy(client)
    assert "when you close your browser or after 2 hours without use." in check
    assert "It is also deleted after 2 hours without use." in privacy
    assert full_list_message(client, 30) == FULL.format(max=30)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1800, "30 minutes"), (3600, "1 hour"), (4 * 3600, "4 hours"), (5400, "1 hour and 30 minutes")],
)
def test_the_idle_time_on_the_check_and_privacy_pages_follows_the_setting(client, settings, seconds, words):
    settings.MEDLIST_IDLE_SECONDS = seconds
    check, privacy = idle_copy(client)
    assert f"when you close your browser or after {words} without use." in check
    assert f"It is also deleted after {words} without use." in privacy
    assert "2 hours" not in check + privacy


def test_the_full_list_message_says_the_size_the_setting_allows(client, settings):
    settings.MEDLIST_MAX_ENTRIES = 3
    assert full_list_message(client, 3) == FULL.format(max=3)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (7200, "2 hours"),
        (60, "1 minute"),
        (10, "1 minute"),
        (89, "1 minute"),
        (91, "2 minutes"),
        (3660, "1 hour and 1 minute"),
    ],
)
def test_a_duration_reads_in_whole_minutes_and_hours(seconds, words):
    assert plain_duration(seconds) == words
