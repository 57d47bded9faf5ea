"""A published guide's page is rendered once per content version and language: it must not change by a byte."""

import pytest
from django.test import Client
from django.urls import reverse

from education import views
from education.models import Article
from interactions.models import Status
from tests.html import CSRF_TOKEN, without_csrf_tokens

pytestmark = pytest.mark.django_db
# Guides with and without related medicines (their add-to-list forms carry the CSRF token).
SLUGS = ["kratom", "serotonin-syndrome", "naltrexone-and-antidepressants", "precipitated-withdrawal"]


def url(slug: str) -> str:
    return reverse("education:article", args=[slug])


def fetch(client, slug: str) -> tuple[bytes, dict]:
    """The page with its CSRF tokens blanked (masked afresh every time), and its headers."""
    response = client.get(url(slug))
    assert response.status_code == 200
    tokens = set(CSRF_TOKEN.findall(response.content))
    assert len(tokens) == 1, "every form on the page carries the request's one token"
    return without_csrf_tokens(response.content), dict(response.headers)


@pytest.fixture
def afresh(client, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(views, "CACHE_PAGES", False)
        return {slug: fetch(client, slug) for slug in SLUGS}


def test_a_kept_page_is_the_page_cold_and_warm(client, afresh):
    assert {slug: fetch(client, slug) for slug in SLUGS} == afresh  # cold: rendered and kept
    assert {slug: fetch(client, slug) for slug in SLUGS} == afresh  # warm: from the cache


def test_a_kept_page_runs_one_query(client, django_assert_num_queries):
    client.get(url("kratom"))
    with django_assert_num_queries(1):  # the content version
        client.get(url("kratom"))


def test_the_token_on_a_kept_page_is_accepted():
    browser = Client(enforce_csrf_checks=True)
    browser.get(url("kratom"))
    page = browser.get(url("kratom"))  # from the cache
    token = CSRF_TOKEN.search(page.content).group().decode()
    response = browser.post(reverse("interactions:check_add"), {"pick": "kratom", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_an_edit_shows_at_once(client):
    client.get(url("kratom"))
    Article.objects.filter(slug="kratom").update(title="Kratom, newly approved")
    assert b"Kratom, newly approved" in client.get(url("kratom")).content


def test_a_guide_taken_down_is_gone_at_once(client):
    client.get(url("kratom"))
    Article.objects.filter(slug="kratom").update(status=Status.DRAFT)
    assert client.get(url("kratom")).status_code == 404


def test_staff_never_get_the_kept_page(client, django_user_model):
    client.get(url("kratom"))
    Article.objects.filter(slug="kratom").update(status=Status.IN_REVIEW)
    staff = django_user_model.objects.create_user("editor", password="x", is_staff=True)
    client.force_login(staff)
    assert b"DRAFT" in client.get(url("kratom")).content


def test_unknown_guides_are_not_kept(client):
    from django.core.cache import cache

    assert client.get(url("no-such-guide")).status_code == 404
    assert not [key for key in cache._cache if "no-such-guide" in key]
