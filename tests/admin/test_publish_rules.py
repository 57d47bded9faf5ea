"""What a rule, message or article needs before it can be published: one check on each model, which the
workflow, the revision approval and the admin all use."""

from __future__ import annotations

import pytest

from education.models import Article
from interactions.models import URGENT_SIGNS_REQUIRED, Interaction, ListRule, Severity, StandingMessage
from staff import importexport
from tests.admin.conftest import new_rule

pytestmark = pytest.mark.django_db


def test_a_complete_rule_has_no_problems():
    assert new_rule(severity=Severity.MAJOR).publish_problems() == []


def test_a_rule_without_text_or_sources_lists_each_problem():
    rule = new_rule()
    rule.summary = " "
    rule.action = ""
    rule.references.clear()
    assert rule.publish_problems() == [
        "Add a summary: what happens and why it matters.",
        "Add an action: what the person should do.",
        "Add at least one reference.",
    ]


@pytest.mark.parametrize(
    ("severity", "needs_signs"),
    [
        (Severity.CONTRAINDICATED, True),
        (Severity.MAJOR, True),
        (Severity.MODERATE, False),
        (Severity.MINOR, False),
        (Severity.NONE, False),
    ],
)
def test_only_serious_rules_need_urgent_signs(severity, needs_signs):
    rule = new_rule(severity=severity)
    rule.urgent_signs = "\n \n"
    assert (URGENT_SIGNS_REQUIRED in rule.publish_problems()) is needs_signs


def test_an_unsaved_rule_has_no_sources_yet():
    assert "Add at least one reference." in Interaction(summary="x", action="y").publish_problems()


def test_whole_list_rules_use_the_same_check():
    rule = ListRule(severity=Severity.MAJOR, summary="", action="Talk to your provider.", urgent_signs="")
    assert rule.publish_problems() == [
        "Add a summary: what happens and why it matters.",
        "Add at least one reference.",
        URGENT_SIGNS_REQUIRED,
    ]


def test_standing_messages_need_text_and_a_source():
    assert StandingMessage(text="").publish_problems() == ["Add the message text.", "Add at least one reference."]
    message = StandingMessage.objects.published().first()
    assert message is not None and message.publish_problems() == []


def test_articles_need_a_summary_and_a_body():
    assert Article(summary="", body=" ").publish_problems() == [
        "Add a one-sentence summary.",
        "Write the article body.",
    ]
    assert all(a.publish_problems() == [] for a in Article.objects.published())


def test_import_columns_follow_the_rules_field_lists():
    columns = list(importexport.FIELDS["interactions"])
    for name in (*Interaction.SIDE_FIELDS, *Interaction.TEXT_FIELDS, *Interaction.REVIEW_FIELDS):
        assert name in columns
    assert importexport.FIELDS["interactions"]["washout_days"] == importexport.FieldType.INT
    assert importexport.FIELDS["interactions"]["next_review_due"] == importexport.FieldType.DATE
