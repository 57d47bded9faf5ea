"""`make backup` / `make restore`: a content dump with natural keys loads back to exactly the same content."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import router
from django.db.models import ProtectedError, Q, RestrictedError
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from education.models import Article
from interactions.models import (
    DrugClass,
    Interaction,
    ListRule,
    Medication,
    MedicationName,
    Reference,
    Regimen,
    Revision,
    StandingMessage,
)
from staff import backup, workflow
from staff.workflow import EDITOR_GROUP, REVIEWER_GROUP
from tests.admin.conftest import LOGIN_URL, PASSWORD, make_staff, new_rule, sign_in

MAKEFILE = Path(settings.BASE_DIR) / "Makefile"
# What `make backup` dumps (the Makefile's BACKUP_MODELS): every content model, not the edit history.
BACKUP_MODELS = list(backup.BACKUP_MODELS)
# The imported dictionary is ~20,000 medicines and ~107,000 names: dumping and loading all of them
# one natural key at a time takes minutes. Keep every curated row and this many imported medicines.
IMPORTED_SAMPLE = 150
# Derived on save from database ids (which a restore does not keep); checked separately below.
DERIVED_FROM_IDS = {"interactions.interaction": {"pair_key"}}


def is_history(model) -> bool:
    return model.__name__.startswith("Historical") or model._meta.db_table.split("_", 1)[-1].startswith("historical")


def content_models() -> list:
    """Every model of the content apps except the edit history and pending revisions (both point at
    database ids, like the history), plus the staff groups."""
    models = [*apps.get_app_config("interactions").get_models(), *apps.get_app_config("education").get_models()]
    return [*(model for model in models if not is_history(model) and model is not Revision), Group]


def canonical() -> list[str]:
    """Every content object serialized with natural keys, ids left out wherever a natural key exists,
    many-to-many lists sorted: equal before and after a round trip if and only if the content is."""
    objects = []
    for model in content_models():
        queryset = model._base_manager.order_by("pk")
        data = json.loads(
            serializers.serialize("json", queryset, use_natural_foreign_keys=True, use_natural_primary_keys=True)
        )
        m2m = {field.name for field in model._meta.many_to_many}
        for item in data:
            for name in DERIVED_FROM_IDS.get(item["model"], ()):
                item["fields"].pop(name, None)
            for name in m2m & item["fields"].keys():
                item["fields"][name] = sorted(item["fields"][name], key=json.dumps)
            if isinstance(item["fields"].get("updated_at"), str):
                # JSON dumps keep milliseconds: a time with a few microseconds comes back on the second.
                item["fields"]["updated_at"] = item["fields"]["updated_at"][:19]
            objects.append(json.dumps(item, sort_keys=True, ensure_ascii=False))
    return sorted(objects)


def keep_only_a_sample_of_the_imported_dictionary(sample: int = IMPORTED_SAMPLE) -> None:
    """Test scaffolding: drop most imported medicines (all but about `sample` of them, and those content
    links to) and their names, with plain SQL deletes (per-row signals would take minutes for ~100,000
    rows). The test's transaction rolls all of it back."""
    imported = Medication.objects.filter(curated=False, interactions_reviewed=False)
    ids = list(imported.order_by("slug").values_list("pk", flat=True))
    keep = set(ids[:: max(1, len(ids) // sample)]) if sample else set()
    linked = set(
        imported.filter(
            Q(products__isnull=False)
            | Q(ingredients__isnull=False)
            | Q(articles__isnull=False)
            | Q(regimens__isnull=False)
        ).values_list("pk", flat=True)
    )
    linked |= {pk for pair in Interaction.objects.values_list("medication_a", "medication_b") for pk in pair if pk}
    doomed = sorted(set(ids) - keep - linked)
    using = router.db_for_write(Medication)
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        names = MedicationName.objects.filter(medication_id__in=chunk)
        Regimen.implied_by_brands.through.objects.filter(medicationname__in=names)._raw_delete(using)
        names._raw_delete(using)
        Medication.classes.through.objects.filter(medication_id__in=chunk)._raw_delete(using)
        Medication.objects.filter(pk__in=chunk)._raw_delete(using)
    assert Medication.objects.filter(curated=False).count() >= sample // 2


def dump(path: Path) -> Path:
    """What `make backup` runs (test_makefile_backup_uses_the_same_dump checks the Makefile says so)."""
    call_command("backup_content", str(path), stdout=io.StringIO())
    assert not list(path.parent.glob(".partial-*"))
    return path


def delete_content() -> None:
    for model in (
        Article,
        Interaction,
        ListRule,
        StandingMessage,
        Regimen,
        MedicationName,
        Medication,
        Reference,
        Group,
    ):
        model._base_manager.all().delete()
    # Drug classes protect their parents: delete the leaves first (bounded by the number of classes).
    for _ in range(DrugClass.objects.count() + 1):
        leaves = DrugClass.objects.filter(children__isnull=True)
        if not leaves.exists():
            break
        leaves.delete()
    # Whatever else the content apps hold (history, for instance), in a bounded number of passes.
    for _ in range(5):
        remaining = [m for m in content_models() if m._base_manager.exists()]
        if not remaining:
            return
        for model in remaining:
            try:
                model._base_manager.all().delete()
            except (ProtectedError, RestrictedError):
                continue
    still = [m._meta.label for m in content_models() if m._base_manager.exists()]
    raise AssertionError(f"Could not empty: {still}")


@pytest.mark.dictionary  # an imported, uncovered medicine
@pytest.mark.django_db
def test_backup_round_trip_reproduces_the_content_exactly(tmp_path):
    keep_only_a_sample_of_the_imported_dictionary()
    reviewers, _created = Group.objects.get_or_create(name="Backup round-trip reviewers")
    reviewers.permissions.set(Permission.objects.filter(content_type__app_label="interactions")[:3])
    before = canonical()
    counts = {model._meta.label: model._base_manager.count() for model in content_models()}
    assert counts["interactions.Interaction"] > 100, counts
    assert counts["education.Article"] >= 8, counts
    assert Medication.objects.filter(curated=False).exists()

    backup_file = dump(tmp_path / "content.json")
    dumped = json.loads(backup_file.read_text())
    assert not [item for item in dumped if item["model"] == "interactions.medication" and "pk" in item]

    with override_settings(SIMPLE_HISTORY_ENABLED=False):  # as if restoring into an empty database
        delete_content()
    assert canonical() == []

    call_command("restore_content", str(backup_file), verbosity=0)  # exactly what `make restore` runs
    after = canonical()
    assert {model._meta.label: model._base_manager.count() for model in content_models()} == counts
    missing = [item for item in before if item not in set(after)][:3]
    extra = [item for item in after if item not in set(before)][:3]
    assert before == after, f"missing after restore: {missing}\nunexpected after restore: {extra}"
    for rule in Interaction.objects.all():
        assert rule.pair_key == rule.compute_pair_key()


def test_backup_covers_every_content_model():
    """A new content model must be added to settings.PATIENT_CONTENT_MODELS, which the backup dumps."""
    assert sorted(BACKUP_MODELS, key=str.lower) == sorted((m._meta.label for m in content_models()), key=str.lower)


def test_makefile_backup_uses_the_same_dump():
    text = MAKEFILE.read_text()
    backup_recipe = re.search(r"^backup:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert backup_recipe is not None
    assert backup_recipe.group(1).rstrip().endswith('$(PY) manage.py backup_content "$$out"')
    restore = re.search(r"^restore:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert restore is not None
    # The checked, all-or-nothing restore that creates placeholder accounts, never a bare loaddata.
    assert restore.group(1).rstrip().endswith("$(PY) manage.py restore_content '$(FILE)'")
    assert "loaddata" not in restore.group(1)
    assert "backups/content-$$(date +%Y%m%d-%H%M%S).json" in text


# --- restore into an empty database: accounts the content names become placeholders to claim -------

RESTORED_ACCOUNTS = ["edna-restore-editor", "rita-restore-reviewer"]


@pytest.fixture
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def wipe_content() -> None:
    """Test scaffolding: empty the content tables (not the staff groups) with plain SQL deletes, so a test
    of the restore logic builds and restores a little content of its own in seconds (the ORM's cascade
    over the seeded content takes minutes). Nothing else points at these rows with a database
    constraint (history rows keep ids without one); the test's transaction rolls it all back."""
    using = router.db_for_write(Medication)
    for model in content_models():
        if model is Group:
            continue
        for field in model._meta.many_to_many:
            if field.remote_field.through._meta.auto_created:
                field.remote_field.through._base_manager.all()._raw_delete(using)
        model._base_manager.all()._raw_delete(using)


@pytest.fixture
def content_by_two_staff(django_user_model, _fast_password_hashing):
    """A rule an editor wrote and a reviewer published, a medicine the reviewer signed off and an article
    with both names on it: every kind of account reference a backup carries, in a database that holds
    nothing else."""
    wipe_content()
    editor = make_staff(django_user_model, RESTORED_ACCOUNTS[0], EDITOR_GROUP)
    reviewer = make_staff(django_user_model, RESTORED_ACCOUNTS[1], REVIEWER_GROUP)
    rule = workflow.submit_for_review(item=new_rule(author=editor), user=editor)
    rule = workflow.publish(item=rule, user=reviewer)
    workflow.mark_interactions_reviewed(medication=rule.medication_a, user=reviewer)
    article = Article.objects.create(
        title="Restored", slug="restored", topic="Tests", summary="One sentence.", body="Some *text*."
    )
    article.medications.add(rule.medication_a)
    article.references.set(rule.references.all())
    Article.objects.filter(pk=article.pk).update(
        author=editor, reviewed_by=reviewer, status="published", reviewed_on=rule.reviewed_on
    )
    return rule


def empty_the_database(usernames: list[str]) -> None:
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        delete_content()
    get_user_model().objects.filter(username__in=usernames).delete()
    assert canonical() == []


def restore(path: Path) -> str:
    out = io.StringIO()
    call_command("restore_content", str(path), stdout=out)
    return out.getvalue()


def accounts() -> list[tuple]:
    return list(get_user_model().objects.order_by("username").values_list())


@pytest.mark.django_db
def test_restore_into_an_empty_database_makes_placeholders_that_cannot_sign_in_until_claimed(
    tmp_path, content_by_two_staff, client, monkeypatch
):
    before = canonical()
    backup_file = dump(tmp_path / "content.json")
    empty_the_database(RESTORED_ACCOUNTS)

    report = restore(backup_file)

    assert canonical() == before
    assert f"Created 2 placeholder account(s), inactive and without a password: {', '.join(RESTORED_ACCOUNTS)}." in (
        report
    )
    assert "create_staff USERNAME --claim" in report
    rule = Interaction.objects.get(slug=content_by_two_staff.slug)
    assert (rule.author.username, rule.reviewed_by.username) == tuple(RESTORED_ACCOUNTS)
    assert rule.medication_a.coverage_signed_by == rule.reviewed_by
    for user in get_user_model().objects.filter(username__in=RESTORED_ACCOUNTS):
        assert not user.is_active and not user.is_staff and not user.is_superuser
        assert not user.has_usable_password()
        assert not user.groups.exists() and not user.user_permissions.exists()
        assert not TOTPDevice.objects.filter(user=user).exists()
        response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD, "otp_token": "123456"})
        assert response.status_code == 200  # the sign-in form again, with its error
        assert client.get("/admin/").status_code == 302

    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)
    call_command(
        "create_staff", RESTORED_ACCOUNTS[1], "--claim", "--role", "reviewer", "--noinput", stdout=io.StringIO()
    )
    reviewer = get_user_model().objects.get(username=RESTORED_ACCOUNTS[1])
    assert reviewer.is_active and reviewer.is_staff and reviewer.groups.filter(name=REVIEWER_GROUP).exists()
    assert sign_in(client, reviewer).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert Interaction.objects.get(slug=rule.slug).reviewed_by == reviewer  # the same account, now claimed


@pytest.mark.django_db
def test_a_second_restore_of_the_same_file_changes_nothing(tmp_path, content_by_two_staff):
    backup_file = dump(tmp_path / "content.json.gz")  # compressed, as docs/deploy.md shows
    empty_the_database(RESTORED_ACCOUNTS)
    restore(backup_file)
    content, users = canonical(), accounts()
    history = {model: model.history.count() for model in (Interaction, Medication, Article)}

    report = restore(backup_file)

    assert canonical() == content
    assert accounts() == users
    assert {model: model.history.count() for model in (Interaction, Medication, Article)} == history
    assert "no account was created or changed" in report


@pytest.mark.django_db
def test_restore_leaves_existing_accounts_exactly_as_they_are(tmp_path, content_by_two_staff):
    backup_file = dump(tmp_path / "content.json")
    get_user_model().objects.filter(username=RESTORED_ACCOUNTS[0]).update(is_active=False)  # someone who left
    users = accounts()

    report = restore(backup_file)

    assert accounts() == users
    assert "no account was created or changed" in report


def write(tmp_path: Path, name: str, data: bytes | str | list) -> Path:
    path = tmp_path / name
    if isinstance(data, list):
        data = json.dumps(data)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def a_reference(key: str = "restore-test-source") -> dict:
    return {"model": "interactions.reference", "fields": {"key": key, "citation": "A test source."}}


def a_rule_by(username: str, **fields) -> dict:
    return {
        "model": "interactions.interaction",
        "fields": {
            "slug": "restore-test-rule",
            "medication_a": ["naltrexone"],
            "medication_b": ["oxycodone"],
            "severity": "major",
            "title": "A test rule",
            "summary": "Summary.",
            "action": "Action.",
            "evidence": "probable",
            "status": "draft",
            "author": [username],
            **fields,
        },
    }


BAD_FILES = [
    ("content.json", "not json at all", "is not valid JSON"),
    ("content.json", b"\xff\xfe[]", "is not UTF-8 text"),
    ("content.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("content.json", '{"model": "auth.group"}', "expected the list of objects"),
    ("content.json", [], "expected the list of objects"),
    ("content.json", [["auth.group"]], "object 1: expected an object with 'model' and 'fields'"),
    ("content.json", [a_reference(), {"model": "interactions.reference"}], "object 2: expected an object"),
    # A backup never carries accounts: a file that does could make anyone a superuser.
    (
        "content.json",
        [{"model": "auth.user", "fields": {"username": "mallory", "is_superuser": True, "password": "x"}}],
        "'auth.user' is not content a backup holds",
    ),
    ("content.json", [{"model": "interactions.revision", "fields": {}}], "'interactions.revision' is not content"),
    ("content.json", [{"model": "nothing.here", "fields": {}}], "'nothing.here' is not content"),
    ("content.json", [a_rule_by("x", author=7)], "names an account by 7, not by username"),
    ("content.json", [a_rule_by("x" * 200)], "is not a username"),
    ("content.json", [a_rule_by("bad name!")], "is not a username"),
    ("content.json.gz", "[]", "cannot be read"),
    ("content.csv", "[]", "a content backup is a .json file"),
    ("content.json.zip", "[]", "a content backup is a .json file"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES)
def test_a_bad_file_is_refused_with_a_message_and_writes_nothing(tmp_path, name, data, message):
    users, content = accounts(), Reference.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("restore_content", str(write(tmp_path, name, data)))
    assert "Nothing was restored." in str(error.value)
    assert accounts() == users
    assert Reference.objects.count() == content


@pytest.mark.django_db
def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore_content", str(tmp_path / "nowhere.json"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "broken",
    [
        {"medication_a": ["no-such-medicine"]},  # a natural key that names nothing
        {"severity": "bogus"},  # the database's constraint refuses it
    ],
)
def test_a_file_that_fails_half_way_leaves_no_content_and_no_account_behind(tmp_path, broken):
    path = write(tmp_path, "content.json", [a_reference(), a_rule_by("gail-ghost", **broken)])
    users = accounts()
    with pytest.raises(CommandError, match="Nothing was restored"):
        call_command("restore_content", str(path), verbosity=0)
    assert not Reference.objects.filter(key="restore-test-source").exists()
    assert not Interaction.objects.filter(slug="restore-test-rule").exists()
    assert accounts() == users


# --- claiming: create_staff --claim is the only way a placeholder signs in --------------------------


@pytest.fixture
def placeholder(db):
    backup.create_placeholder_accounts({"pat-placeholder"})
    return get_user_model().objects.get(username="pat-placeholder")


def test_create_staff_refuses_an_inactive_account_without_claim(placeholder):
    with pytest.raises(CommandError, match=r"inactive and cannot sign in.*--claim"):
        call_command("create_staff", placeholder.username, "--role", "editor", "--noinput")
    placeholder.refresh_from_db()
    assert not placeholder.is_active and not placeholder.is_staff
    assert not TOTPDevice.objects.filter(user=placeholder).exists()


def test_claiming_needs_a_role_for_an_account_without_one(placeholder, monkeypatch):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="has no role yet"):
        call_command("create_staff", placeholder.username, "--claim", "--noinput")
    placeholder.refresh_from_db()
    assert not placeholder.is_active


def test_claiming_checks_the_password_rules(placeholder, monkeypatch):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", "short")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_staff", placeholder.username, "--claim", "--role", "editor", "--noinput")
    placeholder.refresh_from_db()
    assert not placeholder.is_active and not placeholder.has_usable_password()


@pytest.mark.django_db
def test_an_active_or_missing_account_cannot_be_claimed(django_user_model, _fast_password_hashing):
    make_staff(django_user_model, "active-annie", EDITOR_GROUP)
    with pytest.raises(CommandError, match="already active"):
        call_command("create_staff", "active-annie", "--claim", "--role", "editor", "--noinput")
    with pytest.raises(CommandError, match="no account 'nobody' to claim"):
        call_command("create_staff", "nobody", "--claim", "--role", "editor", "--noinput")
