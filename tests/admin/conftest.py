"""Staff workspace fixtures: editors and reviewers who sign in for real, with a password and a TOTP code."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from interactions.models import Interaction, Medication, Reference, Severity, Status
from staff.workflow import EDITOR_GROUP, REVIEWER_GROUP, ensure_roles

PASSWORD = "a-long-staff-password-7"
LOGIN_URL = "/admin/login/"
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs a second per sign-in; these tests are about the flow, not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def totp_code(device: TOTPDevice) -> str:
    """The code the person's authenticator app shows right now, computed with django-otp's own TOTP."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client: Client, user, *, code: str | None = None, password: str = PASSWORD):
    device = TOTPDevice.objects.get(user=user)
    data = {
        "username": user.get_username(),
        "password": password,
        "otp_token": totp_code(device) if code is None else code,
        "next": "/admin/",
    }
    return client.post(LOGIN_URL, data)


def make_staff(django_user_model, username: str, group: str | None):
    ensure_roles()
    user = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


@pytest.fixture
def editor(db, django_user_model):
    return make_staff(django_user_model, "edna-editor", EDITOR_GROUP)


@pytest.fixture
def reviewer(db, django_user_model):
    return make_staff(django_user_model, "rita-reviewer", REVIEWER_GROUP)


@pytest.fixture
def second_reviewer(db, django_user_model):
    return make_staff(django_user_model, "ravi-reviewer", REVIEWER_GROUP)


def signed_in_client(user) -> Client:
    client = Client()
    response = sign_in(client, user)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def editor_client(editor) -> Client:
    return signed_in_client(editor)


@pytest.fixture
def reviewer_client(reviewer) -> Client:
    return signed_in_client(reviewer)


def new_medication(name: str | None = None) -> Medication:
    name = name or f"Testamine {next(_names)}"
    return Medication.objects.create(name=name, slug=name.lower().replace(" ", "-"))


def new_rule(*, status: str = Status.DRAFT, author=None, severity: str = Severity.MODERATE, **fields) -> Interaction:
    a = fields.pop("medication_a", None) or new_medication()
    b = fields.pop("medication_b", None) or new_medication()
    number = next(_names)
    if status == Status.PUBLISHED:
        fields.setdefault("reviewed_on", datetime.date.today())  # the database refuses one without it
        if "reviewed_by" not in fields:
            fields.setdefault("reviewed_by_name", "a test reviewer")  # nor one that names no reviewer
    rule = Interaction.objects.create(
        slug=f"test-rule-{number}",
        title=f"Test rule {number}",
        medication_a=a,
        medication_b=b,
        severity=severity,
        summary="These two can make you sleepy. Take care.",
        action="Ask your pharmacist before you take them together.",
        urgent_signs="Very hard to wake up - call 911." if severity in ("major", "contraindicated") else "",
        evidence="probable",
        status=status,
        author=author,
        **fields,
    )
    rule.references.add(Reference.objects.get_or_create(key="test-source", defaults={"citation": "A test source."})[0])
    return rule


@pytest.fixture
def draft_rule(editor) -> Interaction:
    return new_rule(author=editor)


@pytest.fixture
def rule_in_review(editor) -> Interaction:
    return new_rule(author=editor, status=Status.IN_REVIEW)


@pytest.fixture
def published_rule(editor, second_reviewer) -> Interaction:
    return new_rule(author=editor, status=Status.PUBLISHED, reviewed_by=second_reviewer)
