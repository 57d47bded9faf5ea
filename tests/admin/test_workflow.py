"""The workflow functions: every transition checks the user's permission itself."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from education.models import Article
from interactions.models import Interaction, Medication, Severity, Status
from staff import workflow
from tests.admin.conftest import new_rule

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 22)


def test_the_migration_created_both_roles():
    from django.contrib.auth.models import Group

    editor = Group.objects.get(name=workflow.EDITOR_GROUP)
    reviewer = Group.objects.get(name=workflow.REVIEWER_GROUP)
    editor_perms = set(editor.permissions.values_list("codename", flat=True))
    reviewer_perms = set(reviewer.permissions.values_list("codename", flat=True))
    assert {"add_interaction", "change_interaction", "change_article", "change_medication"} <= editor_perms
    assert not {"publish_interaction", "publish_article", "review_medication"} & editor_perms
    assert {"publish_interaction", "publish_article", "review_medication"} <= reviewer_perms
    assert editor_perms < reviewer_perms


def test_ensure_roles_can_run_again():
    from django.contrib.auth.models import Group

    def roles():
        groups = Group.objects.filter(name__in=[workflow.EDITOR_GROUP, workflow.REVIEWER_GROUP])
        return {group.name: set(group.permissions.values_list("codename", flat=True)) for group in groups}

    workflow.ensure_roles()
    first = roles()
    workflow.ensure_roles()
    assert roles() == first
    assert set(first) == {workflow.EDITOR_GROUP, workflow.REVIEWER_GROUP}
    assert all(first.values())


def test_an_editor_submits_a_draft_for_review(editor, draft_rule):
    item = workflow.submit_for_review(item=draft_rule, user=editor)
    assert item.status == Status.IN_REVIEW
    record = item.history.first()
    assert record.history_user == editor
    assert record.history_change_reason == "Submitted for review"


@pytest.mark.parametrize("transition", [workflow.publish, workflow.unpublish, workflow.retire])
def test_an_editor_cannot_publish_unpublish_or_retire(editor, transition):
    for status in (Status.IN_REVIEW, Status.PUBLISHED):
        rule = new_rule(status=status)
        with pytest.raises(PermissionDenied):
            transition(item=rule, user=editor)
        rule.refresh_from_db()
        assert rule.status == status


def test_an_editor_cannot_mark_interactions_reviewed(editor):
    medication = Medication.objects.create(name="Testamine", slug="testamine")
    with pytest.raises(PermissionDenied):
        workflow.mark_interactions_reviewed(medication=medication, user=editor)
    medication.refresh_from_db()
    assert not medication.interactions_reviewed


def test_a_reviewer_marks_interactions_reviewed(reviewer):
    medication = Medication.objects.create(name="Testamine", slug="testamine")
    workflow.mark_interactions_reviewed(medication=medication, user=reviewer)
    medication.refresh_from_db()
    assert medication.interactions_reviewed
    assert medication.history.first().history_user == reviewer


def test_a_reviewer_publishes_and_the_review_is_recorded(reviewer, rule_in_review):
    item = workflow.publish(item=rule_in_review, user=reviewer, today=TODAY)
    assert item.status == Status.PUBLISHED
    assert item.reviewed_by == reviewer
    assert item.reviewed_on == TODAY
    assert item.next_review_due == datetime.date(2027, 11, 22)
    assert Interaction.objects.published().filter(pk=item.pk).exists()


def test_the_review_interval_is_a_setting(settings, reviewer, rule_in_review):
    settings.REVIEW_INTERVAL_DAYS = 90
    item = workflow.publish(item=rule_in_review, user=reviewer, today=TODAY)
    assert item.next_review_due == TODAY + datetime.timedelta(days=90)


def test_nobody_can_approve_their_own_content(reviewer):
    rule = new_rule(author=reviewer, status=Status.IN_REVIEW)
    with pytest.raises(PermissionDenied, match="another reviewer"):
        workflow.publish(item=rule, user=reviewer)
    rule.refresh_from_db()
    assert rule.status == Status.IN_REVIEW


@pytest.mark.parametrize("model", ["interaction", "article"])
def test_the_database_refuses_a_reviewer_who_is_the_author(reviewer, model):
    item = new_rule(author=reviewer) if model == "interaction" else Article.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(item).objects.filter(pk=item.pk).update(author=reviewer, reviewed_by=reviewer)


def test_seeded_content_without_author_or_reviewer_is_allowed():
    assert Interaction.objects.filter(author__isnull=True, reviewed_by__isnull=True).exists()


def test_publishing_needs_the_item_in_review(reviewer, draft_rule):
    with pytest.raises(ValidationError, match="in review"):
        workflow.publish(item=draft_rule, user=reviewer)


def test_publishing_needs_a_reference(reviewer, rule_in_review):
    rule_in_review.references.clear()
    with pytest.raises(ValidationError, match="reference"):
        workflow.publish(item=rule_in_review, user=reviewer)


def test_publishing_a_serious_rule_needs_urgent_signs(reviewer):
    rule = new_rule(status=Status.IN_REVIEW, severity=Severity.MAJOR)
    Interaction.objects.filter(pk=rule.pk).update(urgent_signs="")
    with pytest.raises(ValidationError, match="urgent"):
        workflow.publish(item=rule, user=reviewer)


def test_publishing_needs_summary_and_action(reviewer, rule_in_review):
    Interaction.objects.filter(pk=rule_in_review.pk).update(summary=" ", action="")
    with pytest.raises(ValidationError) as raised:
        workflow.publish(item=rule_in_review, user=reviewer)
    assert len(raised.value.messages) == 2


def test_unpublishing_takes_a_rule_off_the_public_site(reviewer, published_rule):
    item = workflow.unpublish(item=published_rule, user=reviewer)
    assert item.status == Status.DRAFT
    assert item.reviewed_by is None
    assert not Interaction.objects.published().filter(pk=item.pk).exists()


def test_retiring_keeps_the_rule_but_hides_it(reviewer, published_rule):
    item = workflow.retire(item=published_rule, user=reviewer)
    assert item.status == Status.RETIRED
    assert not Interaction.objects.published().filter(pk=item.pk).exists()


def test_an_editor_can_withdraw_from_review(editor, rule_in_review):
    assert workflow.return_to_draft(item=rule_in_review, user=editor).status == Status.DRAFT


def test_articles_follow_the_same_workflow(editor, reviewer):
    article = Article.objects.create(
        title="A test guide", slug="a-test-guide", topic="Tests", summary="Short.", body="Hello.", author=editor
    )
    workflow.submit_for_review(item=article, user=editor)
    with pytest.raises(PermissionDenied):
        workflow.publish(item=article, user=editor)
    item = workflow.publish(item=article, user=reviewer)
    assert item.status == Status.PUBLISHED
    assert item.reviewed_by == reviewer


def test_the_edit_lock(editor, reviewer, draft_rule, published_rule):
    # Editing a published item proposes a revision (staff/revisions.py); a retired one is closed.
    assert workflow.can_edit(item=draft_rule, user=editor)
    assert workflow.can_edit(item=published_rule, user=editor)
    assert workflow.can_edit(item=published_rule, user=reviewer)
    published_rule.status = Status.RETIRED
    assert not workflow.can_edit(item=published_rule, user=editor)
    assert workflow.can_edit(item=published_rule, user=reviewer)


def test_reading_levels_flag_hard_text():
    rule = Interaction(
        summary="Concomitant administration potentiates pharmacodynamic antagonism, necessitating "
        "individualized therapeutic reconsideration by the prescribing practitioner.",
        action="Ask your pharmacist.",
        urgent_signs="",
        timing="",
    )
    levels = dict(workflow.reading_levels(rule))
    assert levels["Summary"] > 8
    assert levels["What to do"] <= 8
