import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("interactions:medication_search")


def test_it_shows_the_search_form(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert b'role="combobox"' in response.content
    assert b'action="/medications/"' in response.content


def test_it_lists_matches_without_javascript(client):
    response = client.get(URL, {"q": "zoloft"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/medications/sertraline/"' in html
    assert "Zoloft (sertraline)" in html
    assert 'role="listbox"' not in html  # a plain list of links until the script takes over
    assert "<html" in html


def test_htmx_gets_only_the_listbox_partial(client):
    response = client.get(URL, {"q": "zoloft"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.strip().startswith('<ul id="search-results"')
    assert 'role="listbox"' in html
    assert 'role="option"' in html
    assert "HX-Request" in response["Vary"]


def test_htmx_with_empty_text_returns_an_empty_target(client):
    response = client.get(URL, {"q": ""}, headers={"HX-Request": "true"})
    assert b'id="search-results"' in response.content
    assert b"hidden" in response.content


def test_it_says_so_when_nothing_matches(client):
    response = client.get(URL, {"q": "qwzxqwzx"})
    assert b"We could not find a medicine called" in response.content
    assert b"ask your pharmacist" in response.content


def test_a_huge_query_gets_a_message_not_an_error(client):
    response = client.get(URL, {"q": "x" * 10_000})
    assert response.status_code == 200
    assert b"too long" in response.content


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "'; DROP TABLE x; --", "\u202e💊"])
def test_odd_input_is_escaped_and_answered(client, text):
    response = client.get(URL, {"q": text})
    assert response.status_code == 200
    assert b"<script>alert" not in response.content


def test_it_takes_get_and_post_only(client):
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


@pytest.mark.django_db
def test_did_you_mean_offers_links_to_the_real_medicines(client):
    html = client.get("/medications/", {"q": "sertralinexyz"}).content.decode()
    assert "Did you mean:" in html
    assert 'href="/medications/sertraline/">Sertraline</a>' in html


@pytest.mark.django_db
def test_the_add_box_offers_did_you_mean_as_buttons(client):
    html = client.post("/check/suggest/", {"q": "sertralinexyz"}).content.decode()
    assert 'name="pick" value="sertraline"' in html
    assert "Add Sertraline" in html


# --- the live search posts: what someone types is in no web address --------------------------------------


@pytest.mark.parametrize("page", [URL, reverse("education:article_list")])
def test_the_live_search_posts_instead_of_putting_the_name_in_the_address(client, page):
    html = client.get(page).content.decode()
    assert f'hx-post="{page}"' in html
    assert "hx-get=" not in html


def test_the_live_search_answers_a_post_with_the_same_partial_and_no_store(client):
    posted = client.post(URL, {"q": "zoloft"}, headers={"HX-Request": "true"})
    linked = client.get(URL, {"q": "zoloft"}, headers={"HX-Request": "true"})
    assert posted.status_code == 200
    assert posted.content == linked.content
    assert "no-store" in posted["Cache-Control"]


def test_the_guides_search_answers_a_post_too(client):
    posted = client.post(reverse("education:article_list"), {"q": "suboxone"}, headers={"HX-Request": "true"})
    linked = client.get(reverse("education:article_list"), {"q": "suboxone"}, headers={"HX-Request": "true"})
    assert posted.status_code == 200
    assert posted.content == linked.content
    assert "no-store" in posted["Cache-Control"]


def test_a_posted_search_needs_the_csrf_token():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(URL, {"q": "zoloft"}, headers={"HX-Request": "true"})
    assert response.status_code == 403
