"""The history pages (django-simple-history) keep to the strict CSP: no style attribute, no inline
script, so the browser blocks nothing and the page looks as designed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from education.models import Article
from interactions.models import Medication

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def assert_csp_clean(html: str) -> None:
    assert not STYLE_ATTRIBUTE.search(html), STYLE_ATTRIBUTE.search(html)
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html)
    assert "<style" not in html.lower()


def test_a_rule_history_page_has_no_inline_style_or_script(editor_client, draft_rule):
    response = editor_client.get(reverse("admin:interactions_interaction_history", args=[draft_rule.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="paginator' in html  # the part that carried style="border-top: 0"
    assert_csp_clean(html)


def test_the_history_of_a_medication_and_an_article_too(editor_client):
    for model, obj in (
        ("interactions_medication", Medication.objects.first()),
        ("education_article", Article.objects.first()),
    ):
        response = editor_client.get(reverse(f"admin:{model}_history", args=[obj.pk]))
        assert response.status_code == 200
        assert_csp_clean(response.content.decode())


def test_an_old_version_page_has_no_inline_style_or_script(editor_client, draft_rule):
    version = draft_rule.history.earliest()
    url = reverse("admin:interactions_interaction_simple_history", args=[draft_rule.pk, version.history_id])
    response = editor_client.get(url)
    assert response.status_code == 200
    assert_csp_clean(response.content.decode())


def test_the_override_differs_from_the_installed_template_only_in_the_style():
    """When django-simple-history is upgraded, this says to copy its template again."""
    import simple_history
    from django.conf import settings

    name = "simple_history/object_history_list.html"
    upstream = (Path(simple_history.__file__).parent / "templates" / name).read_text()
    ours = (Path(settings.BASE_DIR) / "templates" / name).read_text()
    ours = "\n".join(line for line in ours.splitlines() if not line.startswith("{# django-simple-history"))
    ours = ours.replace('class="paginator history-paginator"', 'class="paginator" style="border-top: 0"')
    assert ours.strip() == upstream.strip()
