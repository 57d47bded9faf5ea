"""The article admin: workflow permissions, the live Markdown preview, the patient preview, the changelist budget."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from education.models import Article
from interactions.models import Revision, Status
from staff import revisions

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:education_article_changelist")
MARKDOWN_PREVIEW = reverse("admin:education_article_markdown_preview")


def new_article(**fields) -> Article:
    defaults = {"title": "A test guide", "slug": "a-test-guide", "topic": "Tests", "summary": "Short.", "body": "Hi."}
    return Article.objects.create(**{**defaults, **fields})


def test_the_change_form_has_a_live_markdown_preview(editor_client, editor):
    article = new_article(author=editor, body="## Hello\n\nPlain words.")
    html = editor_client.get(reverse("admin:education_article_change", args=[article.pk])).content.decode()
    assert f'hx-post="{MARKDOWN_PREVIEW}"' in html
    assert 'hx-trigger="input changed delay:400ms from:#id_body"' in html
    assert "vendor/htmx-2.min.js" in html
    assert '"includeIndicatorStyles":false' in html
    assert '<h2 id="hello">Hello</h2>' in html
    assert "<script>" not in html


def test_the_markdown_preview_returns_the_pane_for_htmx(editor_client):
    response = editor_client.post(MARKDOWN_PREVIEW, {"body": "## Side effects\n\n- Sleepy"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert '<h2 id="side-effects">Side effects</h2>' in html
    assert "<li>Sleepy</li>" in html
    assert "Reading level: grade" in html
    assert "<html" not in html


def test_the_markdown_preview_is_a_full_page_without_javascript(editor_client):
    response = editor_client.post(MARKDOWN_PREVIEW, {"body": "Plain words."})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "<p>Plain words.</p>" in html


def test_the_markdown_preview_uses_the_public_sanitiser(editor_client):
    body = '<script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n<img src=x onerror="alert(1)">'
    html = editor_client.post(MARKDOWN_PREVIEW, {"body": body}, HTTP_HX_REQUEST="true").content.decode()
    assert "<script" not in html
    assert "javascript:" not in html
    assert "<img" not in html


def test_the_markdown_preview_warns_about_hard_text(editor_client):
    hard = (
        "Concomitant administration potentiates pharmacodynamic antagonism, necessitating individualized "
        "therapeutic reconsideration by the prescribing practitioner."
    )
    html = editor_client.post(MARKDOWN_PREVIEW, {"body": hard}, HTTP_HX_REQUEST="true").content.decode()
    assert "grade-warning" in html
    assert re.search(r"Reading level: grade \d+(\.\d)?, above grade 8", html)


def test_the_markdown_preview_refuses_get_and_needs_sign_in(editor_client, client):
    assert editor_client.get(MARKDOWN_PREVIEW).status_code == 405
    assert client.post(MARKDOWN_PREVIEW, {"body": "x"}).status_code == 302


def test_the_preview_is_the_public_article_page(editor_client, editor):
    article = new_article(author=editor, body="## Hello\n\nPlain words.")
    response = editor_client.get(reverse("admin:education_article_preview", args=[article.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "education/article_detail.html"
    assert "DRAFT" in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert '<h2 id="hello">Hello</h2>' in html


def test_an_editor_cannot_publish_an_article(editor_client, editor):
    article = new_article(author=editor, status=Status.IN_REVIEW)
    response = editor_client.post(
        reverse("admin:education_article_workflow", args=[article.pk]), {"transition": "publish"}
    )
    assert response.status_code == 403
    editor_client.post(CHANGELIST, {"action": "publish_selected", "_selected_action": [article.pk]})
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW


def test_an_editors_edit_to_a_published_article_waits_for_a_reviewer(editor_client, second_reviewer):
    article = Article.objects.published().first()
    change = reverse("admin:education_article_change", args=[article.pk])
    assert "Patients keep seeing the live version" in editor_client.get(change).content.decode()
    data = {
        "title": "Changed",
        "slug": article.slug,
        "topic": article.topic,
        "summary": article.summary,
        "body": article.body,
        "audience": article.audience,
        "references": list(article.references.values_list("pk", flat=True)),
    }
    assert editor_client.post(change, data).status_code == 302
    assert Article.objects.get(pk=article.pk).title == article.title
    assert article.title in editor_client.get(reverse("education:article", args=[article.slug])).content.decode()
    revisions.approve(revision=Revision.objects.get(), user=second_reviewer)
    article.refresh_from_db()
    assert (article.title, article.reviewed_by) == ("Changed", second_reviewer)


def test_a_reviewer_publishes_an_article(reviewer_client, reviewer, editor):
    article = new_article(author=editor, status=Status.IN_REVIEW)
    reviewer_client.post(reverse("admin:education_article_workflow", args=[article.pk]), {"transition": "publish"})
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    assert article.reviewed_by == reviewer
    assert article.next_review_due == article.reviewed_on + datetime.timedelta(days=settings.REVIEW_INTERVAL_DAYS)


def test_the_changelist_runs_a_fixed_number_of_queries(editor_client, editor, django_assert_num_queries, monkeypatch):
    Article.objects.bulk_create(
        Article(title=f"Bulk guide {n}", slug=f"bulk-guide-{n}", topic="Bulk", summary="s", body="b", author=editor)
        for n in range(200)
    )
    monkeypatch.setattr(admin.site._registry[Article], "list_per_page", 500)
    with django_assert_num_queries(13):
        response = editor_client.get(CHANGELIST, {"q": "Bulk guide"})
    assert response.content.decode().count('class="action-select"') == 200
