"""`make backup` / `make restore`: a content dump with natural keys loads back to exactly the same content."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core import serializers
from django.core.management import call_command
from django.db import router
from django.db.models import ProtectedError, Q, RestrictedError
from django.test import override_settings

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

MAKEFILE = Path(settings.BASE_DIR) / "Makefile"
# What `make backup` dumps (the Makefile's BACKUP_MODELS): every content model, not the edit history.
BACKUP_MODELS = [
    "interactions.DrugClass",
    "interactions.Medication",
    "interactions.MedicationName",
    "interactions.Regimen",
    "interactions.Reference",
    "interactions.Interaction",
    "interactions.ListRule",
    "interactions.StandingMessage",
    "education.Article",
    "auth.Group",
]
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


def keep_only_a_sample_of_the_imported_dictionary() -> None:
    """Test scaffolding: drop most imported medicines and their names, with plain SQL deletes (per-row
    signals would take minutes for ~100,000 rows). The test's transaction rolls all of it back."""
    imported = Medication.objects.filter(curated=False, interactions_reviewed=False)
    ids = list(imported.order_by("slug").values_list("pk", flat=True))
    keep = set(ids[:: max(1, len(ids) // IMPORTED_SAMPLE)])
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
    assert Medication.objects.filter(curated=False).count() >= IMPORTED_SAMPLE // 2


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

    backup = tmp_path / "content.json"
    call_command(
        "dumpdata",
        *BACKUP_MODELS,
        natural_foreign=True,
        natural_primary=True,
        indent=2,
        output=str(backup),
        verbosity=0,
    )
    dumped = json.loads(backup.read_text())
    assert not [item for item in dumped if item["model"] == "interactions.medication" and "pk" in item]

    with override_settings(SIMPLE_HISTORY_ENABLED=False):  # as if restoring into an empty database
        delete_content()
    assert canonical() == []

    call_command("loaddata", str(backup), verbosity=0)  # exactly what `make restore` runs
    after = canonical()
    assert {model._meta.label: model._base_manager.count() for model in content_models()} == counts
    missing = [item for item in before if item not in set(after)][:3]
    extra = [item for item in after if item not in set(before)][:3]
    assert before == after, f"missing after restore: {missing}\nunexpected after restore: {extra}"
    for rule in Interaction.objects.all():
        assert rule.pair_key == rule.compute_pair_key()


def test_backup_covers_every_content_model():
    """A new content model must be added to the Makefile's BACKUP_MODELS (and to BACKUP_MODELS here)."""
    assert sorted(BACKUP_MODELS, key=str.lower) == sorted((m._meta.label for m in content_models()), key=str.lower)


def test_makefile_backup_uses_the_same_dump():
    text = MAKEFILE.read_text()
    models = re.search(r"^BACKUP_MODELS\s*:?=\s*((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert models is not None
    assert models.group(1).replace("\\", " ").split() == BACKUP_MODELS
    assert "dumpdata $(BACKUP_MODELS) --natural-foreign --natural-primary" in text
    assert "loaddata '$(FILE)'" in text
    assert "backups/content-$$(date +%Y%m%d-%H%M%S).json" in text
