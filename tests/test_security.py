"""Headers, CSRF, rate limits and error pages, on every public URL."""

import pytest
from django.test import Client
from django.urls import reverse

from interactions import medlist
from interactions.medlist import MedEntry, MedList
from tests.headers import assert_security_headers

pytestmark = pytest.mark.django_db

PUBLIC_URLS = [
    "/",
    "/check/",
    "/check/print/",
    "/medications/",
    "/medications/?q=zoloft",
    "/medications/naltrexone/",
    "/learn/",
    "/learn/?q=kratom",
    "/learn/kratom/",
    "/privacy/",
    "/api/v1/medications?q=zoloft",
    "/api/v1/check?med=zoloft&med=tramadol",
    "/api/v1/openapi.json",
    "/healthz",
    "/no-such-page/",
]
POST_URLS = ["/check/add/", "/check/remove/", "/check/dose/", "/check/clear/", "/check/suggest/"]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_every_response_carries_the_security_headers(client, url):
    assert_security_headers(client.get(url).items())


def test_the_bad_host_page_carries_the_security_headers(client):
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert b"Something in that request was not right" in response.content
    assert_security_headers(response.items())


def test_hsts_is_sent_outside_debug(client, settings):
    settings.DEBUG = False
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/privacy/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("url", POST_URLS)
def test_state_changing_urls_need_csrf_and_refuse_get(url):
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(url, {"q": "zoloft", "slug": "sertraline"}).status_code == 403
    assert csrf_client.post(url, {"q": "zoloft"}, headers={"HX-Request": "true"}).status_code == 403
    assert csrf_client.get(url).status_code == 405


def test_an_htmx_post_with_the_token_from_the_page_works():
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.get("/check/")
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post("/check/add/", {"q": "zoloft"}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200


def test_a_csrf_failure_is_a_friendly_page():
    response = Client(enforce_csrf_checks=True).post("/check/add/", {"q": "zoloft"})
    assert b"That action was not allowed" in response.content
    assert b"911" in response.content


def test_session_csrf_and_list_cookies_are_hardened_outside_debug():
    from config import settings as project

    assert project.SESSION_COOKIE_HTTPONLY
    assert project.SESSION_COOKIE_SAMESITE == "Lax" and project.CSRF_COOKIE_SAMESITE == "Lax"


def test_the_list_cookie_is_host_prefixed_secure_httponly_outside_debug(client, settings):
    settings.DEBUG = False
    response = client.post("/check/add/", {"q": "zoloft"})
    cookie = response.cookies["__Host-medlist"]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["max-age"] and not cookie["expires"]  # gone when the browser closes


@pytest.mark.parametrize(
    ("scope", "url", "method"),
    [
        ("search", "/medications/?q=zoloft", "get"),
        ("api", "/api/v1/medications?q=zoloft", "get"),
        ("api", "/api/v1/check?med=zoloft", "get"),
        ("check", "/check/", "get"),
        ("edit", "/check/add/", "post"),
    ],
)
def test_rate_limits_answer_429_with_retry_after(client, settings, scope, url, method):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, scope: 3}
    for _ in range(3):  # a page or an answer; an add redirects back to the list
        assert getattr(client, method)(url, {"q": "zoloft"} if method == "post" else None).status_code == (
            302 if method == "post" else 200
        )
    response = getattr(client, method)(url, {"q": "zoloft"} if method == "post" else None)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= settings.RATE_LIMIT_WINDOW_SECONDS
    if url.startswith("/api/"):
        assert "error" in response.json()
    else:
        assert b"Too many requests" in response.content
        assert b"988" in response.content


def test_rate_limits_are_per_client(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": 1}
    assert client.get("/api/v1/medications?q=a1", REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get("/api/v1/medications?q=a1", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get("/api/v1/medications?q=a1", REMOTE_ADDR="10.0.0.2").status_code == 200


@pytest.mark.parametrize("status", [400, 403, 404, 429, 500, 503])
def test_error_pages_are_styled_and_carry_the_emergency_numbers(rf, status):
    from core.views import error_response

    response = error_response(rf.get("/somewhere/"), status)
    assert response.status_code == status
    html = response.content.decode()
    assert "site.css" in html
    for number in ("911", "988", "1-800-222-1222"):
        assert number in html


def test_api_errors_are_json(rf):
    from core.views import error_response

    response = error_response(rf.get("/api/v1/check"), 500)
    assert response["Content-Type"] == "application/json"


def test_a_404_uses_our_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"We could not find that page" in response.content


def test_a_500_uses_our_page_without_a_stack_trace(settings):
    settings.DEBUG = False
    from django.urls import include, path

    def broken(request):
        raise RuntimeError("boom: oxycodone")

    urlconf = type(
        "urls",
        (),
        {
            "urlpatterns": [path("boom/", broken), path("", include("config.urls"))],
            "handler500": "core.views.server_error",
        },
    )
    settings.ROOT_URLCONF = urlconf
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"boom" not in response.content and b"Traceback" not in response.content


def test_health_check(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "cache": True}


def test_the_privacy_page_explains_what_is_stored(client):
    html = client.get(reverse("privacy")).content.decode()
    assert "Nothing on our server" in html
    assert "Clear my list" in html
    assert "do not sell" in html


def test_medication_names_never_appear_in_urls_we_generate(client):
    client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry("oxycodone"), MedEntry("sertraline")]))
    html = client.get("/check/").content.decode()
    import re

    for url in re.findall(r'(?:href|action|hx-post|hx-get)="([^"]+)"', html):
        assert "oxycodone" not in url and "sertraline" not in url, url


@pytest.mark.parametrize(
    "url", ["/", "/check/", "/medications/", "/learn/", "/privacy/", "/healthz", "/api/v1/medications?q=x"]
)
def test_pages_answer_head_requests(client, url):
    response = client.head(url)
    assert response.status_code == 200
    assert response.content == b""


def test_the_development_server_request_log_is_silent():
    import logging

    logger = logging.getLogger("django.server")
    assert not logger.isEnabledFor(logging.ERROR)
    assert not logger.propagate


def test_a_rate_limited_htmx_request_says_so_in_the_page(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "edit": 1}
    htmx = {"HX-Request": "true"}
    client.post("/check/add/", {"q": "zoloft"}, headers=htmx)
    response = client.post("/check/add/", {"q": "tramadol"}, headers=htmx)
    assert response.status_code == 429
    # htmx is configured to swap a 429 (base.html) into the visible, announced notice.
    assert response["HX-Retarget"] == "#rate-limit-notice"
    assert response["HX-Reswap"] == "innerHTML"
    assert "Too many requests" in response.content.decode()
    assert "seconds, then try again" in response.content.decode()
    page = client.get("/learn/").content.decode()
    assert 'id="rate-limit-notice"' in page and 'role="status"' in page
    assert '{"code":"429","swap":true}' in page
