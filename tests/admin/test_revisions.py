"""No unreviewed change reaches a patient: catalog and published edits wait as revisions for a second person.

Each test drives the real admin forms and asks the real checker (or the public pages) what a patient
would be told before and after approval.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from interactions.checker import CheckEntry, PairStatus, check
from interactions.models import (
    DrugClass,
    Interaction,
    Medication,
    MedicationName,
    Reference,
    Revision,
    RevisionAction,
    RevisionState,
    Severity,
    Status,
)
from staff import revisions, workflow
from tests.admin.conftest import new_rule, signed_in_client

pytestmark = pytest.mark.django_db


class _FormReader(HTMLParser):
    """The admin change form's fields as a browser would submit them (inputs, selects, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def form_of(client: Client, url: str) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    reader = _FormReader()
    reader.feed(response.content.decode())
    # Textareas start with a newline the browser drops.
    return {k: [v.removeprefix("\n") for v in values] for k, values in reader.data.items()}


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def answer(a: str, b: str) -> str:
    """What the checker tells a patient about a pair: the verdict's severity, or the pair's status."""
    pair = check([CheckEntry(a), CheckEntry(b)]).pairs[0]
    return pair.severity if pair.status == PairStatus.FINDING else pair.status


@pytest.fixture
def second_reviewer_client(second_reviewer) -> Client:
    return signed_in_client(second_reviewer)


def opioid_classes(medication: Medication) -> list[DrugClass]:
    return [c for c in medication.classes.all() if "opioid" in c.slug]


# --- the finding from the attack pass: an editor removes oxycodone from its opioid class ------------------


def test_removing_oxycodone_from_its_class_waits_for_a_second_person(editor_client, editor, reviewer, reviewer_client):
    oxycodone = Medication.objects.get(slug="oxycodone")
    assert answer("naltrexone", "oxycodone") == Severity.CONTRAINDICATED
    removed = opioid_classes(oxycodone)
    assert removed
    data = form_of(editor_client, change_url(oxycodone))
    data["classes"] = [str(c.pk) for c in oxycodone.classes.all() if c not in removed]
    response = editor_client.post(change_url(oxycodone), data)

    revision = Revision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:interactions_revision_change", args=[revision.pk])
    assert (revision.state, revision.author, revision.action) == (RevisionState.PENDING, editor, RevisionAction.CHANGE)
    # Nothing changed for patients.
    assert set(opioid_classes(Medication.objects.get(slug="oxycodone"))) == set(removed)
    assert answer("naltrexone", "oxycodone") == Severity.CONTRAINDICATED

    # The reviewer sees what approval would change for patients, weaker answers first.
    page = reviewer_client.get(reverse("admin:interactions_revision_change", args=[revision.pk])).content.decode()
    assert "Naltrexone + oxycodone" in page
    assert "Avoid combining" in page
    impact = revisions.impact(revision, user=reviewer)
    naltrexone_line = next(p for p in impact.pairs if p.pair.lower() == "naltrexone + oxycodone")
    assert naltrexone_line.before == Severity.CONTRAINDICATED.label
    assert naltrexone_line.less_cautious
    assert impact.pairs[0].less_cautious
    # The preview rolled everything back.
    assert set(opioid_classes(Medication.objects.get(slug="oxycodone"))) == set(removed)
    assert answer("naltrexone", "oxycodone") == Severity.CONTRAINDICATED

    # The author cannot approve; an editor cannot approve at all; a reviewer can.
    with pytest.raises(PermissionDenied):
        revisions.approve(revision=revision, user=editor)
    reviewer_client.post(reverse("admin:interactions_revision_decide", args=[revision.pk]), {"decision": "approve"})
    revision.refresh_from_db()
    assert (revision.state, revision.decided_by) == (RevisionState.APPROVED, reviewer)
    assert not opioid_classes(Medication.objects.get(slug="oxycodone"))
    assert answer("naltrexone", "oxycodone") != Severity.CONTRAINDICATED
    latest = Medication.objects.get(slug="oxycodone").history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        reviewer,
        f"Revision {revision.pk} by edna-editor, approved",
    )


def test_the_sertraline_and_tramadol_warning_cannot_be_silenced_by_one_person(reviewer_client, reviewer):
    sertraline = Medication.objects.get(slug="sertraline")
    before = answer("sertraline", "tramadol")
    assert before in (Severity.MAJOR, Severity.CONTRAINDICATED)
    data = form_of(reviewer_client, change_url(sertraline))
    data["classes"] = []
    reviewer_client.post(change_url(sertraline), data)
    revision = Revision.objects.get()
    assert answer("sertraline", "tramadol") == before
    # A reviewer's own change needs another reviewer too.
    response = reviewer_client.post(
        reverse("admin:interactions_revision_decide", args=[revision.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING
    assert answer("sertraline", "tramadol") == before


def test_a_reference_url_change_does_not_show_on_public_pages_until_approved(editor_client, second_reviewer, client):
    reference = Reference.objects.exclude(url="").filter(interactions__status=Status.PUBLISHED).first()
    data = form_of(editor_client, change_url(reference))
    data["url"] = ["https://phishing.example/login"]
    editor_client.post(change_url(reference), data)
    assert Reference.objects.get(pk=reference.pk).url == reference.url
    assert "phishing.example" not in client.get(reverse("interactions:covered")).content.decode()
    revision = Revision.objects.get()
    assert [(f.before, f.after) for f in revisions.field_changes(revision)] == [
        (reference.url, "https://phishing.example/login")
    ]
    revisions.send_back(revision=revision, user=second_reviewer, note="Not the label's address.")
    revision.refresh_from_db()
    assert revision.state == RevisionState.SENT_BACK
    assert Reference.objects.get(pk=reference.pk).url == reference.url
    with pytest.raises(ValidationError):
        revisions.approve(revision=revision, user=second_reviewer)


def test_a_new_brand_name_is_searchable_only_after_approval(editor_client, editor, reviewer):
    sertraline = Medication.objects.get(slug="sertraline")
    add = reverse("admin:interactions_medicationname_add")
    response = editor_client.post(add, {"medication": sertraline.pk, "name": "Zolotest", "is_brand": "on"})
    assert response.status_code == 302
    assert not MedicationName.objects.filter(name="Zolotest").exists()
    revision = Revision.objects.get()
    assert (revision.action, revision.object_id) == (RevisionAction.ADD, None)
    revisions.approve(revision=revision, user=reviewer)
    name = MedicationName.objects.get(name="Zolotest")
    assert (name.medication, name.is_brand, name.normalized) == (sertraline, True, "zolotest")
    revision.refresh_from_db()
    assert revision.object_id == name.pk


def test_deleting_a_catalog_item_is_a_revision_too(editor_client, reviewer):
    name = MedicationName.objects.filter(medication__slug="sertraline", is_brand=True).first()
    delete = reverse("admin:interactions_medicationname_delete", args=[name.pk])
    response = editor_client.post(delete, {"post": "yes"})
    assert response.status_code == 302
    assert MedicationName.objects.filter(pk=name.pk).exists()
    revision = Revision.objects.get()
    assert revision.action == RevisionAction.DELETE
    # No bulk delete that would skip the review.
    changelist = editor_client.get(reverse("admin:interactions_medicationname_changelist")).content.decode()
    assert 'value="delete_selected"' not in changelist
    revisions.approve(revision=revision, user=reviewer)
    assert not MedicationName.objects.filter(pk=name.pk).exists()


def test_a_class_still_in_use_cannot_be_deleted_and_says_why(editor, reviewer):
    used = DrugClass.objects.filter(pk__in=Interaction.objects.values("drug_class_a")).first()
    revision = revisions.propose(model=DrugClass, obj=used, values={}, user=editor, action=RevisionAction.DELETE)
    with pytest.raises(ValidationError, match="still used by"):
        revisions.approve(revision=revision, user=reviewer)
    assert DrugClass.objects.filter(pk=used.pk).exists()
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING


def test_a_revision_written_against_an_older_live_version_is_refused(editor, reviewer, second_reviewer):
    naltrexone = Medication.objects.get(slug="naltrexone")
    first = revisions.propose(model=Medication, obj=naltrexone, values={"name": "Naltrexone A"}, user=editor)
    second = revisions.propose(model=Medication, obj=naltrexone, values={"name": "Naltrexone B"}, user=reviewer)
    revisions.approve(revision=first, user=second_reviewer)
    with pytest.raises(ValidationError, match="changed after this was written"):
        revisions.approve(revision=second, user=second_reviewer)
    assert Medication.objects.get(pk=naltrexone.pk).name == "Naltrexone A"
    assert "changed after this was written" in revisions.impact(second, user=second_reviewer).problem


def test_an_unchanged_save_makes_no_revision(editor_client):
    sertraline = Medication.objects.get(slug="sertraline")
    response = editor_client.post(change_url(sertraline), form_of(editor_client, change_url(sertraline)), follow=True)
    assert response.status_code == 200
    assert not Revision.objects.exists()
    assert "Nothing changed" in response.content.decode()


def test_only_the_author_withdraws(editor, reviewer):
    revision = revisions.propose(
        model=Medication, obj=Medication.objects.get(slug="sertraline"), values={"name": "X"}, user=editor
    )
    with pytest.raises(PermissionDenied):
        revisions.withdraw(revision=revision, user=reviewer)
    revisions.withdraw(revision=revision, user=editor)
    revision.refresh_from_db()
    assert revision.state == RevisionState.WITHDRAWN


def test_the_database_refuses_a_revision_approved_by_its_author(editor):
    revision = revisions.propose(
        model=Medication, obj=Medication.objects.get(slug="sertraline"), values={"name": "X"}, user=editor
    )
    revision.state = RevisionState.APPROVED
    revision.decided_by = editor
    revision.decided_at = revision.created_at
    with pytest.raises(IntegrityError), transaction.atomic():
        revision.save()


def test_pending_changes_show_in_the_review_queue_and_on_the_item(editor_client, editor, reviewer_client):
    sertraline = Medication.objects.get(slug="sertraline")
    revision = revisions.propose(model=Medication, obj=sertraline, values={"name": "Sertraline HCl"}, user=editor)
    home = reviewer_client.get(reverse("admin:index")).content.decode()
    assert "Changes waiting for approval" in home
    assert reverse("admin:interactions_revision_change", args=[revision.pk]) in home
    item = reviewer_client.get(change_url(sertraline)).content.decode()
    assert f"Revision {revision.pk}</a>" in item


# --- four eyes on rules and articles ----------------------------------------------------------------------


def test_a_reviewer_who_rewrote_an_item_in_review_cannot_approve_it(editor, reviewer, reviewer_client, second_reviewer):
    rule = new_rule(author=editor, status=Status.IN_REVIEW)
    data = form_of(reviewer_client, change_url(rule))
    data["summary"] = ["The reviewer's own words. Take care."]
    assert reviewer_client.post(change_url(rule), data).status_code == 302
    assert Interaction.objects.get(pk=rule.pk).summary == "The reviewer's own words. Take care."
    with pytest.raises(PermissionDenied, match="You changed this text"):
        workflow.publish(item=rule, user=reviewer)
    published = workflow.publish(item=rule, user=second_reviewer)
    assert published.reviewed_by == second_reviewer


def test_role_matrix_an_editors_change_to_a_published_rule_leaves_the_public_answer_until_another_approves(
    editor_client, editor, reviewer, client
):
    rule = Interaction.objects.published().filter(medication_a__isnull=False, medication_b__isnull=False).first()
    a, b = rule.medication_a.slug, rule.medication_b.slug
    live_answer = answer(a, b)
    data = form_of(editor_client, change_url(rule))
    data["severity"] = [Severity.MINOR if rule.severity != Severity.MINOR else Severity.MODERATE]
    editor_client.post(change_url(rule), data)
    revision = Revision.objects.get()
    api = client.post("/api/v1/check", {"med": [a, b]}, content_type="application/json").json()
    assert api["pairs"][0]["severity"] == live_answer
    assert answer(a, b) == live_answer
    revisions.approve(revision=revision, user=reviewer)
    assert answer(a, b) == data["severity"][0]
    rule.refresh_from_db()
    assert (rule.status, rule.reviewed_by) == (Status.PUBLISHED, reviewer)


def test_published_content_is_retired_not_deleted(reviewer_client):
    rule = Interaction.objects.published().first()
    response = reviewer_client.post(reverse("admin:interactions_interaction_delete", args=[rule.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Interaction.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("model", [Interaction, "article"])
def test_the_database_refuses_published_content_that_names_no_reviewer(model):
    from education.models import Article

    model = Article if model == "article" else model
    item = model.objects.published().first()
    assert item.reviewed_by_name == "the MedWise clinical content team"  # shipped content says who
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=item.pk).update(reviewed_by=None, reviewed_by_name="")
