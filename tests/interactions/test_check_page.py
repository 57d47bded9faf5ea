"""The check page three ways: the full page, the htmx partials, and the no-JS POST then redirect."""

import logging
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils.html import escape

from interactions import list_cookie, medlist
from interactions.medlist import MedEntry, MedList
from interactions.models import Medication, StandingMessage, Status
from tests.medicines import THIRTY

pytestmark = pytest.mark.django_db
CHECK = reverse("interactions:check")
ADD = reverse("interactions:check_add")
REMOVE = reverse("interactions:check_remove")
DOSE = reverse("interactions:check_dose")
CLEAR = reverse("interactions:check_clear")
SUGGEST = reverse("interactions:check_suggest")
PRINT = reverse("interactions:check_print")
HTMX = {"HX-Request": "true"}


def with_list(client, *entries):
    client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry(*e) for e in entries]))


def current_list(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.COOKIES[medlist.cookie_name()] = client.cookies[medlist.cookie_name()].value
    return list_cookie.load(request).entries


def test_the_home_page_is_the_check_page(client):
    response = client.get(reverse("interactions:home"))
    assert response.status_code == 200
    assert b"Add a medicine" in response.content
    assert b"Your list is empty" in response.content


def test_pages_showing_a_list_are_never_cached(client):
    with_list(client, ("oxycodone",))
    response = client.get(CHECK)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_adding_without_javascript_redirects_and_shows_the_result(client):
    response = client.post(ADD, {"q": "Vivitrol"})
    assert response.status_code == 302
    assert response["Location"] == CHECK
    # The brand the person added it by is kept, to show beside the generic name.
    assert current_list(client) == [MedEntry("naltrexone", "naltrexone-injection", "Vivitrol")]
    client.post(ADD, {"q": "oxycodone"})
    html = client.get(CHECK).content.decode()
    assert "Avoid combining" in html
    assert "Vivitrol (naltrexone)" in html
    assert "overdose" in html.lower()
    assert "Added Oxycodone." in html
    assert "We found: 1 pair to avoid combining" in html


def test_the_notice_is_shown_once(client):
    client.post(ADD, {"q": "oxycodone"})
    assert b"Added Oxycodone." in client.get(CHECK).content
    assert b"Added Oxycodone." not in client.get(CHECK).content


def test_viewing_a_list_restarts_its_idle_timer_at_most_once_a_minute(client, later):
    with_list(client, ("oxycodone",))
    assert medlist.cookie_name() not in client.get(CHECK).cookies  # the cookie was issued just now
    later(61)
    assert medlist.cookie_name() in client.get(CHECK).cookies
    assert medlist.cookie_name() not in client.get(PRINT).cookies


def test_a_list_viewed_but_not_written_is_still_dropped_after_the_idle_time(client, settings, monkeypatch, later):
    with_list(client, ("oxycodone",))
    later(30)
    assert b"Oxycodone" in client.get(CHECK).content
    monkeypatch.undo()
    later(settings.MEDLIST_IDLE_SECONDS + 1)
    assert b"had expired" in client.get(CHECK).content


def test_adding_with_htmx_returns_the_list_and_the_findings_together(client):
    with_list(client, ("naltrexone", "naltrexone-injection"))
    response = client.post(ADD, {"q": "oxycodone"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="medlist"')
    assert '<section id="findings"' in html and 'hx-swap-oob="true"' in html
    assert '<div id="announce" hx-swap-oob="innerHTML">' in html
    assert "Avoid combining" in html
    assert current_list(client)[-1] == MedEntry("oxycodone")


def test_a_picked_option_carries_its_dose(client):
    client.post(ADD, {"pick": "naltrexone:naltrexone-low-dose", "q": "naltrexone 4.5 mg"}, headers=HTMX)
    assert current_list(client) == [MedEntry("naltrexone", "naltrexone-low-dose")]


def test_a_strength_typed_in_the_box_sets_the_dose(client):
    client.post(ADD, {"q": "naltrexone 50 mg"})
    assert current_list(client) == [MedEntry("naltrexone", "naltrexone-tablet")]


def test_duplicate_adds_change_nothing(client):
    client.post(ADD, {"q": "zoloft"})
    client.post(ADD, {"q": "sertraline"})
    assert current_list(client) == [MedEntry("sertraline", None, "Zoloft")]
    assert b"already on your list" in client.get(CHECK).content


def test_the_31st_medicine_is_refused_with_a_message(client):
    slugs = [slug for slug in THIRTY if slug != "naltrexone"] + ["naproxen"]
    with_list(client, *[(s,) for s in slugs])
    client.post(ADD, {"q": "naltrexone"})
    assert len(current_list(client)) == 30
    assert b"Your list is full" in client.get(CHECK).content


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("qwzxqwzx", b"We could not find"),
        ("", b"Type the name"),
        ("x" * 10_000, b"too long"),
        ("\x00", b"Type the name"),
    ],
)
def test_bad_adds_get_a_clear_message_and_keep_the_list(client, q, message):
    with_list(client, ("oxycodone",))
    response = client.post(ADD, {"q": q})
    assert response.status_code == 302
    assert message in client.get(CHECK).content
    assert current_list(client) == [MedEntry("oxycodone")]


def test_an_unknown_slug_cannot_be_added(client):
    client.post(ADD, {"pick": "no-such-thing"})
    assert b"We could not find that medicine" in client.get(CHECK).content


def test_changing_the_dose(client):
    with_list(client, ("naltrexone",), ("oxycodone",))
    client.post(DOSE, {"slug": "naltrexone", "regimen": "naltrexone-low-dose"})
    assert current_list(client)[0] == MedEntry("naltrexone", "naltrexone-low-dose")
    client.post(DOSE, {"slug": "naltrexone", "regimen": "unsure"}, headers=HTMX)
    assert current_list(client)[0] == MedEntry("naltrexone", None)
    client.post(DOSE, {"slug": "naltrexone", "regimen": "sertraline-made-up"})
    assert current_list(client)[0] == MedEntry("naltrexone", None)


def test_not_sure_shows_the_answer_for_every_dose(client):
    with_list(client, ("naltrexone",), ("oxycodone",))
    html = client.get(CHECK).content.decode()
    assert "This depends on the dose." in html
    for label in ("Low-dose, usually 1 to 5 mg a day", "Tablet, usually 50 mg a day", "Monthly shot (Vivitrol)"):
        assert label in html


def test_removing(client):
    with_list(client, ("naltrexone",), ("oxycodone",))
    response = client.post(REMOVE, {"slug": "oxycodone"}, headers=HTMX)
    assert b"Removed Oxycodone." in response.content
    assert current_list(client) == [MedEntry("naltrexone")]


def test_clearing_removes_the_cookie_at_once(client):
    with_list(client, ("naltrexone",))
    response = client.post(CLEAR)
    assert response.status_code == 302
    # Only the list goes: "cookies" would also sign a staff member out of the same browser.
    assert response["Clear-Site-Data"] == '"cache"'
    assert response.cookies[medlist.cookie_name()].value == ""
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    htmx = client.post(CLEAR, headers=HTMX)
    assert htmx["HX-Refresh"] == "true"


@pytest.mark.parametrize("url", [ADD, REMOVE, DOSE, CLEAR, SUGGEST])
def test_actions_refuse_get(client, url):
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("url", [ADD, REMOVE, DOSE, CLEAR, SUGGEST])
def test_actions_need_the_csrf_token(url):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(url, {"q": "zoloft"}).status_code == 403


def test_suggestions_come_by_post_so_names_stay_out_of_urls(client):
    response = client.post(SUGGEST, {"q": "zolof"}, headers=HTMX)
    html = response.content.decode()
    assert 'role="listbox"' in html
    assert 'value="sertraline"' in html
    assert "no-store" in response["Cache-Control"]


def test_suggestions_for_nothing_say_so(client):
    assert b"We could not find" in client.post(SUGGEST, {"q": "qwzxqwzx"}).content


def test_a_tampered_cookie_gets_a_friendly_notice(client):
    client.cookies[medlist.cookie_name()] = "tampered"
    response = client.get(CHECK)
    assert response.status_code == 200
    assert b"could not be read" in response.content


@pytest.mark.dictionary  # an imported, uncovered medicine
def covered_on_the_page(client) -> int:
    html = client.get(CHECK).content.decode()
    return int(re.search(r"Our reviewed content covers (\d+) medicine", html).group(1))


def test_the_coverage_line_follows_a_lapsed_sign_off_at_once(client):
    covered = covered_on_the_page(client)
    assert covered == covered_on_the_page(client) > 1
    Medication.objects.filter(slug="sertraline").update(coverage_signed_on=date(2000, 1, 1))
    assert covered_on_the_page(client) == covered - 1


def test_uncovered_pairs_say_ask_your_pharmacist(client):
    with_list(client, ("sertraline",), ("abacavir",))
    html = client.get(CHECK).content.decode()
    assert "Not reviewed here: ask your pharmacist" in html
    assert "No interaction expected" not in html


def test_the_print_view_has_the_list_findings_questions_and_date(client):
    with_list(client, ("naltrexone", "naltrexone-injection"), ("oxycodone",), ("sertraline",))
    html = client.get(PRINT).content.decode()
    assert "Questions to ask my provider" in html
    assert "Naltrexone" in html and "Oxycodone" in html
    assert "Avoid combining" in html
    assert "Printed on" in html
    assert "naloxone (Narcan) at home" in html


def test_nothing_about_the_list_reaches_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post(ADD, {"q": "oxycodone"})
    client.post(ADD, {"q": "Vivitrol"}, headers=HTMX)
    client.get(CHECK)
    client.post(REMOVE, {"slug": "oxycodone"})
    client.get("/api/v1/check", {"med": ["oxycodone", "Vivitrol"]})
    client.get("/medications/", {"q": "oxycodone"})
    client.post(SUGGEST, {"q": "oxycodone"}, headers=HTMX)
    client.get(PRINT)
    text = caplog.text.lower()
    for name in ("oxycodone", "vivitrol", "naltrexone"):
        assert name not in text


@pytest.mark.parametrize("size", [1, 5, 30])
def test_the_check_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries, size):
    with_list(client, *((slug,) for slug in THIRTY[:size]))
    assert client.get(CHECK).status_code == 200
    # Only the content version, at any size: the list's medicines come from the reviewed content.
    with django_assert_num_queries(1):
        assert client.get(CHECK).status_code == 200


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (ADD, {"pick": "oxy\x00codone"}),
        (ADD, {"pick": "naltrexone:naltrexone\x00tablet"}),
        (REMOVE, {"slug": "\x00"}),
        (DOSE, {"slug": "naltrexone", "regimen": "\x00"}),
        (DOSE, {"slug": "nal\x00trexone", "regimen": "naltrexone-tablet"}),
        (ADD, {"pick": "x" * 5000}),
    ],
)
def test_tampered_form_values_get_a_message_not_an_error(client, url, data):
    with_list(client, ("naltrexone",))
    response = client.post(url, data)
    assert response.status_code == 302
    assert client.get(CHECK).status_code == 200
    assert current_list(client)[0].slug == "naltrexone"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("phenelzine", "tyramine-foods"),  # an MAO inhibitor: aged and fermented foods
        ("linezolid", "tyramine-foods"),
        ("simvastatin", "grapefruit-check"),  # a label that names grapefruit juice
        ("nifedipine", "grapefruit-check"),
        ("alprazolam", "sedating-medicine-alcohol-driving"),  # alcohol adds to the sleepiness
        ("metronidazole", "no-alcohol-hidden-alcohol"),
    ],
)
def test_food_and_drink_advice_shows_without_adding_the_food(client, slug, message):
    """The person adds only the medicine; the food or drink its label warns about comes with it."""
    standing = StandingMessage.objects.get(slug=message)
    assert standing.status == Status.PUBLISHED
    assert standing.references.exists()
    with_list(client, (slug,))
    assert escape(standing.title) in client.get(CHECK).content.decode()
    # Not shown to everyone: a medicine whose label has no such warning does not bring it.
    with_list(client, ("lisinopril",))
    assert escape(standing.title) not in client.get(CHECK).content.decode()
