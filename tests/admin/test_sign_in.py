"""Admin sign-in: password plus TOTP for every staff member, lockout, new session keys, idle timeout,
absolute session lifetime, and the purge of expired sessions."""

from __future__ import annotations

import datetime
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.middleware import StaffSessionLifetimeMiddleware
from tests.admin.conftest import LOGIN_URL, PASSWORD, sign_in

SIGNED_IN_AT = StaffSessionLifetimeMiddleware.SIGNED_IN_AT

pytestmark = pytest.mark.django_db


def test_the_admin_sends_visitors_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_the_sign_in_page_asks_for_the_authenticator_code(client):
    html = client.get(LOGIN_URL).content.decode()
    assert 'name="otp_token"' in html
    assert 'autocomplete="one-time-code"' in html
    assert "<script>" not in html


def test_staff_sign_in_with_password_and_totp_code(client, editor):
    response = sign_in(client, editor)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_password_alone_is_not_enough(client, editor):
    response = client.post(LOGIN_URL, {"username": editor.username, "password": PASSWORD, "otp_token": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_gets_the_same_message_as_a_wrong_password(client, editor):
    wrong_code = sign_in(client, editor, code="000000").content.decode()
    wrong_password = sign_in(Client(), editor, password="not-the-password-1").content.decode()
    message = "Please enter the correct username, password and authenticator code"
    assert message in wrong_code
    assert message in wrong_password
    assert client.get("/admin/").status_code == 302


def test_staff_without_an_authenticator_cannot_sign_in(client, editor):
    editor.totpdevice_set.all().delete()
    response = client.post(LOGIN_URL, {"username": editor.username, "password": PASSWORD, "otp_token": "123456"})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_session_without_the_second_factor_cannot_use_the_admin(client, reviewer):
    # force_login still works with django-axes installed (AxesStandaloneBackend has no get_user) ...
    client.force_login(reviewer)
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    # ... but a session that skipped the TOTP code is not verified, so the admin refuses it.
    response = client.get("/admin/interactions/interaction/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_non_staff_cannot_sign_in(client, editor):
    editor.is_staff = False
    editor.save()
    sign_in(client, editor)
    assert client.get("/admin/").status_code == 302


def test_sign_in_gives_a_new_session_key(client, editor):
    client.get(LOGIN_URL)
    session = client.session
    session["before"] = "sign-in"
    session.save()
    before = session.session_key
    sign_in(client, editor)
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_sign_out_deletes_the_session_on_the_server(editor_client):
    key = editor_client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    response = editor_client.post("/admin/logout/")
    assert response.status_code == 200
    assert not Session.objects.filter(session_key=key).exists()
    assert editor_client.get("/admin/").status_code == 302


def test_an_idle_staff_session_expires(editor_client):
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    key = editor_client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = editor_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_each_request_extends_the_idle_timeout(editor_client):
    key = editor_client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + datetime.timedelta(minutes=1))
    assert editor_client.get("/admin/").status_code == 200
    expires = Session.objects.get(session_key=key).expire_date
    assert expires > timezone.now() + datetime.timedelta(minutes=29)


def test_a_staff_session_has_an_absolute_lifetime_of_twelve_hours_by_default():
    assert settings.STAFF_SESSION_MAX_SECONDS == 12 * 60 * 60


def test_the_lifetime_starts_at_sign_in_and_activity_does_not_extend_it(editor_client):
    signed_in_at = editor_client.session[SIGNED_IN_AT]
    assert time.time() - 60 < signed_in_at <= time.time()
    for _ in range(3):
        assert editor_client.get("/admin/").status_code == 200
    assert editor_client.session[SIGNED_IN_AT] == signed_in_at


def test_an_active_staff_session_ends_after_its_lifetime(editor_client):
    key = editor_client.session.session_key
    session = editor_client.session
    session[SIGNED_IN_AT] = time.time() - settings.STAFF_SESSION_MAX_SECONDS - 1
    session.save()
    response = editor_client.get("/admin/")  # the idle timeout alone would let this through
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert not Session.objects.filter(session_key=key).exists()
    page = editor_client.get(response["Location"]).content.decode()
    assert "a staff session lasts at most 12 hours. Please sign in again." in page


def test_signing_in_again_starts_a_new_lifetime(client, editor):
    assert sign_in(client, editor).status_code == 302
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.STAFF_SESSION_MAX_SECONDS - 1
    session.save()
    assert client.get("/admin/").status_code == 302
    TOTPDevice.objects.filter(user=editor).update(last_t=-1)  # as if in the next 30-second step
    assert sign_in(client, editor).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert time.time() - client.session[SIGNED_IN_AT] < 60


def test_public_pages_never_touch_the_session(client, django_assert_num_queries):
    client.get("/check/")
    with django_assert_num_queries(0):
        response = client.get("/privacy/")
    assert not any(name.endswith("sessionid") for name in response.cookies)


def test_make_clearsessions_is_a_documented_target():
    base = Path(settings.BASE_DIR)
    makefile = (base / "Makefile").read_text()
    recipe = re.search(r"^clearsessions:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None and recipe.group(1) == "$(PY) manage.py clearsessions"
    assert re.search(r"^\.PHONY:.*\bclearsessions\b", makefile, re.MULTILINE)
    assert "make clearsessions" in (base / "README.md").read_text()
    deploy = (base / "docs" / "deploy.md").read_text()
    assert "make clearsessions" in deploy and "OnCalendar=daily" in deploy


def test_repeated_failures_lock_the_sign_in_out(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, editor, password="wrong-password-123").status_code == 200
    locked = sign_in(client, editor, password="wrong-password-123")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Even the right password and code are refused while locked out.
    assert sign_in(client, editor).status_code == 429
    assert client.get("/admin/").status_code == 302


def test_wrong_codes_count_towards_the_lockout(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, editor, code="000000").status_code == 200
    assert sign_in(client, editor, code="000000").status_code == 429


def test_the_lockout_is_per_person_and_address(client, editor, reviewer):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, editor, password="wrong-password-123")
    assert sign_in(Client(), reviewer).status_code == 302


def test_staff_passwords_need_twelve_characters_and_not_a_common_one(editor):
    validate_password("Tq8vLm2pXz4w", editor)  # twelve, and not a common password: accepted
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Tq8vLm2pXz4", editor)
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password1234", editor)
