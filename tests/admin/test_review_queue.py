"""The review-due queue: the admin home panel and the changelist filter."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from education.models import Article
from interactions.models import Interaction, Medication, Status
from staff.workflow import review_queue
from tests.admin.conftest import new_rule

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def queue_content(editor, second_reviewer):
    overdue = new_rule(status=Status.PUBLISHED, author=editor, reviewed_by=second_reviewer, next_review_due=days(-3))
    soon = new_rule(status=Status.PUBLISHED, author=editor, reviewed_by=second_reviewer, next_review_due=days(20))
    later = new_rule(status=Status.PUBLISHED, author=editor, reviewed_by=second_reviewer, next_review_due=days(90))
    waiting = new_rule(status=Status.IN_REVIEW, author=editor)
    article = Article.objects.published().first()
    Article.objects.filter(pk=article.pk).update(next_review_due=days(5))
    return {"overdue": overdue, "soon": soon, "later": later, "waiting": waiting, "article": article}


def test_the_queue_holds_overdue_and_soon_due_content(queue_content, django_assert_num_queries):
    Medication.objects.create(slug="newamine", name="Newamine", curated=True)
    with django_assert_num_queries(13):
        queue = review_queue()
    assert [r.pk for r in queue.rules_due] == [queue_content["overdue"].pk, queue_content["soon"].pk]
    assert queue_content["article"].pk in [a.pk for a in queue.articles_due]
    assert [r.pk for r in queue.in_review_rules] == [queue_content["waiting"].pk]
    incomplete = Medication.objects.filter(curated=True).not_covered()
    assert queue.incomplete_medications_count == incomplete.count() > 0
    assert queue.incomplete_medications[0] == incomplete.order_by("name").first()
    assert (
        queue.undated_rules_count == Interaction.objects.filter(status=Status.PUBLISHED, next_review_due=None).count()
    )


def test_the_admin_home_shows_the_queue(editor_client, queue_content):
    Medication.objects.create(slug="newamine", name="Newamine", curated=True)
    html = editor_client.get(reverse("admin:index")).content.decode()
    assert 'id="review-queue"' in html
    assert queue_content["overdue"].title in html
    assert "overdue since" in html
    assert queue_content["soon"].title in html
    assert queue_content["later"].title not in html
    assert queue_content["waiting"].title in html
    assert queue_content["article"].title in html
    assert "Medicines with incomplete coverage" in html
    assert "?coverage=incomplete" in html


def test_the_review_filter_lists_the_same_rules(editor_client, queue_content):
    url = reverse("admin:interactions_interaction_changelist")
    html = editor_client.get(url, {"review": "due"}).content.decode()
    assert queue_content["overdue"].title in html
    assert queue_content["soon"].title in html
    assert queue_content["later"].title not in html
    overdue = editor_client.get(url, {"review": "overdue"}).content.decode()
    assert queue_content["overdue"].title in overdue
    assert queue_content["soon"].title not in overdue
