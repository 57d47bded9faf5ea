"""Medications, names, classes, regimens and references: coverage marking, autocomplete, changelist budgets."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from interactions.models import DrugClass, Medication, MedicationName, Reference, Regimen

pytestmark = pytest.mark.django_db

MEDICATIONS = reverse("admin:interactions_medication_changelist")


def test_an_editor_cannot_mark_interactions_reviewed(editor_client):
    medication = Medication.objects.create(name="Testamine", slug="testamine")
    html = editor_client.get(MEDICATIONS).content.decode()
    assert 'value="mark_interactions_reviewed"' not in html
    editor_client.post(MEDICATIONS, {"action": "mark_interactions_reviewed", "_selected_action": [medication.pk]})
    change = reverse("admin:interactions_medication_change", args=[medication.pk])
    data = {
        "name": "Testamine",
        "slug": "testamine",
        "kind": "prescription",
        "interactions_reviewed": "on",
        "names-TOTAL_FORMS": "0",
        "names-INITIAL_FORMS": "0",
    }
    assert editor_client.post(change, data).status_code == 302
    medication.refresh_from_db()
    assert not medication.interactions_reviewed


def test_a_reviewer_marks_interactions_reviewed(reviewer_client):
    medication = Medication.objects.create(name="Testamine", slug="testamine")
    reviewer_client.post(MEDICATIONS, {"action": "mark_interactions_reviewed", "_selected_action": [medication.pk]})
    medication.refresh_from_db()
    assert medication.interactions_reviewed


def test_the_coverage_filter_lists_curated_medicines_not_covered(editor_client):
    Medication.objects.create(slug="newamine", name="Newamine", curated=True)
    Medication.objects.filter(slug="sertraline").update(coverage_signed_on=date(2000, 1, 1))  # lapsed
    html = editor_client.get(MEDICATIONS, {"coverage": "incomplete"}).content.decode()
    assert "Newamine" in html
    assert "Sertraline" in html
    assert "Naltrexone" not in html


def test_autocomplete_finds_medications_and_classes(editor_client):
    url = reverse("admin:autocomplete")
    common = {"app_label": "interactions", "model_name": "interaction"}
    medications = editor_client.get(url, {**common, "field_name": "medication_a", "term": "naltrex"}).json()
    assert any(r["text"] == "Naltrexone" for r in medications["results"])
    classes = editor_client.get(url, {**common, "field_name": "drug_class_a", "term": "opioid"}).json()
    assert classes["results"]


def bulk_medications(count: int = 200) -> list[Medication]:
    medications = Medication.objects.bulk_create(
        Medication(name=f"Bulkamine {n}", slug=f"bulkamine-{n}") for n in range(count)
    )
    opioids = DrugClass.objects.get(slug="opioid-agonist")
    Medication.classes.through.objects.bulk_create(
        Medication.classes.through(medication_id=m.pk, drugclass_id=opioids.pk) for m in medications
    )
    return medications


@pytest.mark.parametrize(
    ("model", "make", "query", "budget"),
    [
        (Medication, bulk_medications, "Bulkamine", 13),
        (
            MedicationName,
            lambda: MedicationName.objects.bulk_create(
                MedicationName(medication=m, name=f"Bulkname {m.pk}", normalized=f"bulkname {m.pk}")
                for m in bulk_medications()
            ),
            "Bulkname",
            11,
        ),
        (
            DrugClass,
            lambda: DrugClass.objects.bulk_create(
                DrugClass(name=f"Bulk class {n}", slug=f"bulk-class-{n}", parent=DrugClass.objects.first())
                for n in range(200)
            ),
            "Bulk class",
            11,
        ),
        (
            Regimen,
            lambda: Regimen.objects.bulk_create(
                Regimen(
                    medication=m,
                    slug=f"bulk-regimen-{m.pk}",
                    name="Bulk regimen",
                    patient_label="x",
                    min_mg=1,
                    max_mg=2,
                )
                for m in bulk_medications()
            ),
            "Bulk regimen",
            11,
        ),
        (
            Reference,
            lambda: Reference.objects.bulk_create(
                Reference(key=f"bulk-ref-{n}", citation=f"Bulk reference {n}") for n in range(200)
            ),
            "Bulk reference",
            11,
        ),
    ],
    ids=["medications", "names", "classes", "regimens", "references"],
)
def test_each_catalog_changelist_runs_a_fixed_number_of_queries(
    editor_client, django_assert_num_queries, monkeypatch, model, make, query, budget
):
    make()
    monkeypatch.setattr(admin.site._registry[model], "list_per_page", 500)
    url = reverse(f"admin:interactions_{model._meta.model_name}_changelist")
    with django_assert_num_queries(budget):
        response = editor_client.get(url, {"q": query})
    assert rows_shown(response) == 200


def rows_shown(response) -> int:
    html = response.content.decode()
    return html.split('<table id="result_list">')[1].split("<tbody>")[1].split("</tbody>")[0].count("<tr")
