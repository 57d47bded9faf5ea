"""The rule admin: each permission path, validation, preview, history and the changelist budget."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from interactions.models import (
    DrugClass,
    Interaction,
    Medication,
    Reference,
    Revision,
    RevisionState,
    Severity,
    Status,
)
from staff import revisions
from tests.admin.conftest import new_medication, new_rule

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:interactions_interaction_changelist")
ADD = reverse("admin:interactions_interaction_add")


def change_url(rule: Interaction) -> str:
    return reverse("admin:interactions_interaction_change", args=[rule.pk])


def workflow_url(rule: Interaction) -> str:
    return reverse("admin:interactions_interaction_workflow", args=[rule.pk])


def form_data(rule: Interaction | None = None, **overrides) -> dict:
    """The change form as a browser would post it."""
    reference = Reference.objects.get_or_create(key="test-source", defaults={"citation": "A test source."})[0]
    data = {
        "medication_a": rule.medication_a_id if rule else new_medication().pk,
        "medication_b": rule.medication_b_id if rule else new_medication().pk,
        "drug_class_a": "",
        "drug_class_b": "",
        "regimen_a": "",
        "regimen_b": "",
        "title": rule.title if rule else "Testamine and sleep",
        "slug": rule.slug if rule else "testamine-and-sleep",
        "severity": rule.severity if rule else Severity.MODERATE,
        "summary": "Both can make you sleepy.",
        "action": "Ask your pharmacist before you take them together.",
        "urgent_signs": "",
        "timing": "",
        "washout_days": "",
        "washout_stop": "",
        "mechanism": "",
        "evidence": "probable",
        "references": [reference.pk],
    }
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the changelist ---------------------------------------------------------------------------------


def test_the_changelist_has_search_and_filters(editor_client):
    response = editor_client.get(CHANGELIST, {"q": "naltrexone tablets"})
    html = response.content.decode()
    assert response.status_code == 200
    for heading in ("By status", "By severity", "By drug class", "By review due"):
        assert heading in html
    assert "Naltrexone tablets and opioids" in html


@pytest.mark.parametrize(
    "query",
    [
        {"status__exact": "published"},
        {"severity__exact": "major"},
        {"class": "opioid-agonist"},
        {"review": "due"},
        {"review": "overdue"},
        {"review": "unset"},
    ],
)
def test_every_filter_works(editor_client, query):
    assert editor_client.get(CHANGELIST, query).status_code == 200


def test_the_class_filter_matches_either_side(editor_client):
    opioids = DrugClass.objects.get(slug="opioid-agonist")
    html = editor_client.get(CHANGELIST, {"class": opioids.slug}).content.decode()
    assert "Naltrexone tablets and opioids" in html


def test_the_changelist_runs_a_fixed_number_of_queries(editor_client, django_assert_num_queries, monkeypatch):
    first = new_medication("Bulkamine")
    others = Medication.objects.bulk_create(
        Medication(name=f"Bulk partner {n}", slug=f"bulk-partner-{n}") for n in range(200)
    )
    rules = [
        Interaction(
            slug=f"bulk-{n}",
            title=f"Bulk rule {n}",
            medication_a=first,
            medication_b=other,
            severity=Severity.MINOR,
            summary="s",
            action="a",
            evidence="probable",
        )
        for n, other in enumerate(others)
    ]
    for rule in rules:
        rule.pair_key = rule.compute_pair_key()
    Interaction.objects.bulk_create(rules)
    monkeypatch.setattr(admin.site._registry[Interaction], "list_per_page", 500)
    # Session, user, TOTP device, permissions (2), class filter, counts (2), the page, session save (3).
    with django_assert_num_queries(12):
        response = editor_client.get(CHANGELIST, {"q": "Bulk rule"})
    assert response.content.decode().count('class="action-select"') == 200


# --- an editor cannot publish, by any path -----------------------------------------------------------


def test_an_editor_adds_a_draft_and_becomes_its_author(editor_client, editor):
    response = editor_client.post(ADD, form_data(status="published"))
    assert response.status_code == 302, response.content.decode()
    rule = Interaction.objects.get(slug="testamine-and-sleep")
    assert rule.status == Status.DRAFT
    assert rule.author == editor
    assert rule.history.first().history_user == editor


def test_an_editor_does_not_see_the_publish_actions(editor_client):
    html = editor_client.get(CHANGELIST).content.decode()
    assert 'value="submit_selected"' in html
    assert 'value="publish_selected"' not in html


def test_an_editor_cannot_publish_through_the_action(editor_client, rule_in_review):
    response = editor_client.post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [rule_in_review.pk]}, follow=True
    )
    assert response.status_code == 200
    rule_in_review.refresh_from_db()
    assert rule_in_review.status == Status.IN_REVIEW


def test_an_editor_cannot_publish_through_the_workflow_view(editor_client, rule_in_review):
    response = editor_client.post(workflow_url(rule_in_review), {"transition": "publish"})
    assert response.status_code == 403
    rule_in_review.refresh_from_db()
    assert rule_in_review.status == Status.IN_REVIEW


def test_an_editor_cannot_publish_by_posting_a_status(editor_client, draft_rule):
    data = form_data(draft_rule, status="published", reviewed_by=1, reviewed_on="2026-01-01")
    response = editor_client.post(change_url(draft_rule), data)
    assert response.status_code == 302
    draft_rule.refresh_from_db()
    assert draft_rule.status == Status.DRAFT
    assert draft_rule.reviewed_by is None


def test_an_editor_may_edit_a_published_rule_and_is_told_it_waits_for_approval(editor_client, published_rule):
    response = editor_client.get(change_url(published_rule))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Patients keep seeing the live version until someone other than you approves it." in html
    assert 'name="summary"' in html
    assert 'value="publish"' not in html


def test_an_editors_change_to_a_published_rule_is_a_revision_not_live(editor_client, editor, published_rule):
    before = published_rule.summary
    response = editor_client.post(change_url(published_rule), form_data(published_rule, summary="Changed."))
    revision = Revision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:interactions_revision_change", args=[revision.pk])
    published_rule.refresh_from_db()
    assert published_rule.summary == before
    assert (revision.state, revision.author, revision.changes["summary"]) == (RevisionState.PENDING, editor, "Changed.")


def test_an_editor_cannot_delete_a_published_rule(editor_client, published_rule):
    response = editor_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [published_rule.pk], "post": "yes"}
    )
    assert response.status_code == 403
    assert Interaction.objects.filter(pk=published_rule.pk).exists()


def test_an_editor_can_delete_a_draft(editor_client, draft_rule):
    delete = reverse("admin:interactions_interaction_delete", args=[draft_rule.pk])
    assert editor_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Interaction.objects.filter(pk=draft_rule.pk).exists()


def test_an_editor_submits_through_the_workflow_button(editor_client, draft_rule):
    response = editor_client.post(workflow_url(draft_rule), {"transition": "submit"}, follow=True)
    assert "was submitted for review" in " ".join(messages_of(response))
    draft_rule.refresh_from_db()
    assert draft_rule.status == Status.IN_REVIEW


def test_the_workflow_view_refuses_get(editor_client, draft_rule):
    assert editor_client.get(workflow_url(draft_rule)).status_code == 405


# --- reviewers -----------------------------------------------------------------------------------------


def test_a_reviewer_publishes_through_the_action(reviewer_client, reviewer, rule_in_review):
    response = reviewer_client.post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [rule_in_review.pk]}, follow=True
    )
    assert "1 item(s) approved and published." in messages_of(response)
    rule_in_review.refresh_from_db()
    assert rule_in_review.status == Status.PUBLISHED
    assert rule_in_review.reviewed_by == reviewer


def test_a_reviewer_publishes_through_the_change_form_button(reviewer_client, rule_in_review):
    html = reviewer_client.get(change_url(rule_in_review)).content.decode()
    assert 'value="publish"' in html
    reviewer_client.post(workflow_url(rule_in_review), {"transition": "publish"})
    rule_in_review.refresh_from_db()
    assert rule_in_review.status == Status.PUBLISHED


def test_a_reviewer_cannot_publish_their_own_rule(reviewer_client, reviewer):
    rule = new_rule(author=reviewer, status=Status.IN_REVIEW)
    html = reviewer_client.get(change_url(rule)).content.decode()
    assert "You wrote this, so another reviewer must approve it." in html
    response = reviewer_client.post(workflow_url(rule), {"transition": "publish"})
    assert response.status_code == 403
    response = reviewer_client.post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [rule.pk]}, follow=True
    )
    assert any("another reviewer must approve" in m for m in messages_of(response))
    rule.refresh_from_db()
    assert rule.status == Status.IN_REVIEW


def test_a_failed_publish_explains_what_is_missing(reviewer_client, rule_in_review):
    rule_in_review.references.clear()
    response = reviewer_client.post(workflow_url(rule_in_review), {"transition": "publish"}, follow=True)
    assert "Add at least one reference." in " ".join(messages_of(response))


def test_a_reviewers_edit_to_a_published_rule_needs_another_reviewer(
    reviewer_client, reviewer, second_reviewer, published_rule
):
    reviewer_client.post(change_url(published_rule), form_data(published_rule, summary="Clearer now."))
    revision = Revision.objects.get()
    published_rule.refresh_from_db()
    assert published_rule.summary != "Clearer now."
    with pytest.raises(PermissionDenied):
        revisions.approve(revision=revision, user=reviewer)
    revisions.approve(revision=revision, user=second_reviewer)
    published_rule.refresh_from_db()
    assert published_rule.summary == "Clearer now."
    assert published_rule.status == Status.PUBLISHED
    # "Reviewed by" names whoever approved the live text.
    assert published_rule.reviewed_by == second_reviewer


def test_a_reviewer_unpublishes_and_retires(reviewer_client, published_rule):
    reviewer_client.post(workflow_url(published_rule), {"transition": "unpublish"})
    published_rule.refresh_from_db()
    assert published_rule.status == Status.DRAFT
    reviewer_client.post(workflow_url(published_rule), {"transition": "retire"})
    published_rule.refresh_from_db()
    assert published_rule.status == Status.RETIRED


# --- validation ------------------------------------------------------------------------------------------


def test_a_serious_rule_needs_urgent_signs(editor_client):
    response = editor_client.post(ADD, form_data(severity=Severity.MAJOR, urgent_signs=""))
    assert response.status_code == 200
    assert "Add at least one urgent warning sign" in response.content.decode()


def test_a_duplicate_rule_is_refused_with_a_link_to_the_existing_one(editor_client, draft_rule):
    data = form_data(draft_rule, slug="another-slug", title="Another title")
    response = editor_client.post(ADD, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "A rule for this pair already exists" in html
    assert f'<a href="{change_url(draft_rule)}">{draft_rule.title}</a>' in html


def test_a_duplicate_is_found_whichever_way_round(editor_client, draft_rule):
    data = form_data(
        draft_rule,
        slug="swapped",
        medication_a=draft_rule.medication_b_id,
        medication_b=draft_rule.medication_a_id,
    )
    assert "A rule for this pair already exists" in editor_client.post(ADD, data).content.decode()


def test_each_side_needs_one_target(editor_client):
    opioids = DrugClass.objects.get(slug="opioid-agonist")
    response = editor_client.post(ADD, form_data(drug_class_a=opioids.pk))
    assert "Side A: choose one medication or one drug class, not both." in response.content.decode()


def test_a_published_rule_keeps_a_reference(reviewer_client, published_rule):
    response = reviewer_client.post(change_url(published_rule), form_data(published_rule, references=[]))
    assert response.status_code == 200
    assert "A published rule needs at least one reference." in response.content.decode()


def test_hard_text_gets_a_warning_with_the_grade(editor_client):
    hard = (
        "Concomitant administration potentiates pharmacodynamic antagonism, necessitating individualized "
        "therapeutic reconsideration by the prescribing practitioner."
    )
    response = editor_client.post(ADD, form_data(summary=hard), follow=True)
    warnings = [m for m in messages_of(response) if m.startswith("Summary reads at grade")]
    assert warnings, messages_of(response)
    grade = float(re.search(r"grade (\d+(?:\.\d+)?)", warnings[0]).group(1))
    assert grade > 8
    rule = Interaction.objects.get(slug="testamine-and-sleep")
    html = editor_client.get(change_url(rule)).content.decode()
    assert f"Summary: grade {grade} — above grade 8, please simplify" in html


# --- preview and history -------------------------------------------------------------------------------


def test_the_preview_shows_the_card_patients_will_see(editor_client, draft_rule):
    response = editor_client.get(reverse("admin:interactions_interaction_preview", args=[draft_rule.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert 'class="finding sev-moderate"' in html
    assert draft_rule.title in html
    assert f"{draft_rule.medication_a.name} with {draft_rule.medication_b.name}" in html
    assert "PREVIEW" in html
    assert "A test source." in html


def test_the_preview_needs_the_second_factor(client, editor, draft_rule):
    client.force_login(editor)
    response = client.get(reverse("admin:interactions_interaction_preview", args=[draft_rule.pk]))
    assert response.status_code == 302


def test_the_history_shows_who_changed_what(editor_client, reviewer_client, draft_rule):
    editor_client.post(change_url(draft_rule), form_data(draft_rule, summary="A better summary."))
    editor_client.post(workflow_url(draft_rule), {"transition": "submit"})
    reviewer_client.post(workflow_url(draft_rule), {"transition": "publish"})
    history = reverse("admin:interactions_interaction_history", args=[draft_rule.pk])
    html = editor_client.get(history).content.decode()
    assert "edna-editor" in html
    assert "rita-reviewer" in html
    assert "Submitted for review" in html
    assert "Approved and published" in html
    assert "A better summary." in html


def test_a_restore_of_a_published_rule_is_a_revision_and_keeps_the_status(
    reviewer_client, second_reviewer, published_rule
):
    oldest = published_rule.history.earliest()
    Interaction.objects.filter(pk=published_rule.pk).update(summary="Newer text.")
    restore = reverse("admin:interactions_interaction_simple_history", args=[published_rule.pk, oldest.history_id])
    response = reviewer_client.post(restore, form_data(published_rule, summary=oldest.summary))
    assert response.status_code == 302
    published_rule.refresh_from_db()
    assert published_rule.summary == "Newer text."
    revisions.approve(revision=Revision.objects.get(), user=second_reviewer)
    published_rule.refresh_from_db()
    assert published_rule.summary == oldest.summary
    assert published_rule.status == Status.PUBLISHED


def test_an_editors_restore_of_a_published_rule_changes_nothing_live(editor_client, published_rule):
    oldest = published_rule.history.earliest()
    restore = reverse("admin:interactions_interaction_simple_history", args=[published_rule.pk, oldest.history_id])
    assert editor_client.get(restore).status_code == 200
    response = editor_client.post(restore, form_data(published_rule, summary="Sneaky."))
    assert response.status_code == 302
    published_rule.refresh_from_db()
    assert published_rule.summary != "Sneaky."
    assert Revision.objects.get().changes["summary"] == "Sneaky."


def test_restoring_an_old_published_version_does_not_republish(editor_client, reviewer, published_rule):
    from staff import workflow

    workflow.unpublish(item=published_rule, user=reviewer)
    published_version = published_rule.history.filter(status=Status.PUBLISHED).first()
    restore = reverse(
        "admin:interactions_interaction_simple_history", args=[published_rule.pk, published_version.history_id]
    )
    response = editor_client.post(restore, form_data(published_rule))
    assert response.status_code == 302
    published_rule.refresh_from_db()
    assert published_rule.status == Status.DRAFT
