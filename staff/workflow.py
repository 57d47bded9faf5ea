"""The review and publishing workflow for interaction rules and articles, and the staff roles.

Draft -> in review -> published -> (unpublished back to draft, or retired). Each transition is a
plain function that checks the user's permission itself and raises PermissionDenied, so the admin
actions, the change-form buttons and any future caller all get the same rules. A transition that
does not fit the item's current status, or content that is not ready to publish, raises
ValidationError with a message for the person.

Published and retired items are locked for content editors: the public page must never change
without a reviewer's approval. A reviewer moves the item back to draft (unpublish) or makes the
edit themselves.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from core.readability import rounded_grade
from interactions.models import Interaction, ListRule, Medication, StandingMessage, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from education.models import Article

    Reviewable = Interaction | Article | ListRule | StandingMessage

EDITOR_GROUP = "Content editor"
REVIEWER_GROUP = "Clinical reviewer"

LOCKED_STATUSES = {Status.PUBLISHED, Status.RETIRED}
# Set only through the workflow functions: never from a form, an import of history, or a revert.
WORKFLOW_FIELDS = ("status", "author", "reviewed_by", "reviewed_by_name", "reviewed_on", "next_review_due")

# (app label, model, codename, name): permissions beyond Django's add/change/delete/view.
CUSTOM_PERMISSIONS = [
    ("interactions", "interaction", "publish_interaction", "Can approve, publish, unpublish and retire rules"),
    ("education", "article", "publish_article", "Can approve, publish, unpublish and retire articles"),
    ("interactions", "medication", "review_medication", "Can mark a medication's interactions as reviewed"),
    ("interactions", "listrule", "publish_listrule", "Can approve, publish, unpublish and retire whole-list rules"),
    (
        "interactions",
        "standingmessage",
        "publish_standingmessage",
        "Can approve, publish, unpublish and retire standing messages",
    ),
]
# (app label, model name) of everything patients see, catalog first (settings.PATIENT_CONTENT_MODELS).
CONTENT_MODELS = [tuple(label.lower().split(".")) for label in settings.PATIENT_CONTENT_MODELS]
_EDITOR_PERMISSIONS = [
    *[(app, f"{action}_{model}") for app, model in CONTENT_MODELS for action in ("view", "add", "change")],
    # Catalog deletions are proposals (revisions) that a reviewer approves.
    *[(app, f"delete_{model}") for app, model in CONTENT_MODELS[: settings.CATALOG_MODEL_COUNT]],
    # Only drafts: the admin refuses to delete anything else for an editor.
    ("interactions", "delete_interaction"),
    ("interactions", "delete_listrule"),
    ("interactions", "delete_standingmessage"),
    ("education", "delete_article"),
]
ROLES = {
    EDITOR_GROUP: [*_EDITOR_PERMISSIONS, ("interactions", "view_revision")],
    REVIEWER_GROUP: [
        ("interactions", "view_revision"),
        ("interactions", "approve_revision"),
        *[
            (app, f"{action}_{model}")
            for app, model in CONTENT_MODELS
            for action in ("view", "add", "change", "delete")
        ],
        *[(app, codename) for app, _model, codename, _name in CUSTOM_PERMISSIONS],
    ],
}


def publish_permission(model: type[Model]) -> str:
    return f"{model._meta.app_label}.publish_{model._meta.model_name}"


def can_publish(user: AbstractBaseUser, model: type[Model]) -> bool:
    return user.has_perm(publish_permission(model))


def can_edit(*, item: Reviewable | None, user: AbstractBaseUser) -> bool:
    """Editors may change drafts and items in review, and propose changes to published items (a
    revision, which another person approves); retired items only a reviewer, by reopening them."""
    if item is None:
        return True
    if not user.has_perm(_change_permission(item)):
        return False
    return item.status != Status.RETIRED or can_publish(user, type(item))


# The reasons the workflow itself writes into the history: status moves, not edits to the text.
WORKFLOW_REASONS = (
    "Submitted for review",
    "Sent back to draft",
    "Approved and published",
    "Unpublished to draft",
    "Retired",
)


def edited_by(item: Reviewable, user: AbstractBaseUser) -> bool:
    """Whether this person changed the item's text since it was last approved (so may not approve it)."""
    history = item.history.all()
    last_approval = history.filter(history_change_reason="Approved and published").order_by("-history_date").first()
    if last_approval is not None:
        history = history.filter(history_date__gt=last_approval.history_date)
    edits = history.filter(history_user_id=user.pk).exclude(history_change_reason__in=WORKFLOW_REASONS)
    return edits.exists()


def reading_levels(item: Reviewable) -> list[tuple[str, Decimal]]:
    """The reading grade of each patient-facing text, for the admin's warnings (target: grade 8)."""

    if isinstance(item, StandingMessage):
        texts = [("Message", item.text), ("More", item.more)]
        return [(label, rounded_grade(text)) for label, text in texts if text.strip()]
    if isinstance(item, Interaction | ListRule):
        signs = " ".join(line if line.endswith((".", "!", "?")) else f"{line}." for line in item.urgent_sign_list)
        texts = [
            ("Summary", item.summary),
            ("What to do", item.action),
            ("Urgent signs", signs),
            ("Timing", getattr(item, "timing", "")),
        ]
        return [(label, rounded_grade(text)) for label, text in texts if text.strip()]
    levels = [("Summary", rounded_grade(item.summary))] if item.summary.strip() else []
    if item.reading_grade is not None:
        levels.append(("Article body", Decimal(item.reading_grade)))
    return levels


def _require(user: AbstractBaseUser, permission: str, message: str) -> None:
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(message)


def _change_permission(item: Reviewable) -> str:
    return f"{item._meta.app_label}.change_{item._meta.model_name}"


def _transition(
    item: Reviewable,
    *,
    user: AbstractBaseUser,
    allowed_from: set[str],
    to: str,
    reason: str,
    check=None,
    **changes,
) -> Reviewable:
    """Move one item to a new status under a row lock; the history records who and why."""
    model = type(item)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=item.pk)
        if current.status not in allowed_from:
            allowed = ", ".join(str(Status(s).label).lower() for s in sorted(allowed_from))
            raise ValidationError(
                f"“{current}” is {current.get_status_display().lower()}; this step needs it to be {allowed}."
            )
        if check is not None:
            check(current)
        current.status = to
        for name, value in changes.items():
            setattr(current, name, value)
        current._history_user = user
        current._change_reason = reason
        current.save()
    return current


def submit_for_review(*, item: Reviewable, user: AbstractBaseUser) -> Reviewable:
    """An editor (or reviewer) hands a draft to the reviewers."""
    _require(user, _change_permission(item), "You do not have permission to change this content.")
    return _transition(item, user=user, allowed_from={Status.DRAFT}, to=Status.IN_REVIEW, reason="Submitted for review")


def return_to_draft(*, item: Reviewable, user: AbstractBaseUser) -> Reviewable:
    """Take an item out of review (the author withdraws it, or a reviewer sends it back)."""
    _require(user, _change_permission(item), "You do not have permission to change this content.")
    return _transition(item, user=user, allowed_from={Status.IN_REVIEW}, to=Status.DRAFT, reason="Sent back to draft")


def publish(*, item: Reviewable, user: AbstractBaseUser, today: datetime.date | None = None) -> Reviewable:
    """A reviewer approves an item in review: the public sees it from now on."""
    _require(user, publish_permission(type(item)), "Only clinical reviewers can publish.")
    today = today or timezone.localdate()

    def check(current: Reviewable) -> None:
        if current.author_id is not None and current.author_id == user.pk:
            raise PermissionDenied("You wrote this, so another reviewer must approve it.")
        if edited_by(current, user):
            raise PermissionDenied("You changed this text, so another reviewer must approve it.")
        problems = current.publish_problems()
        if problems:
            raise ValidationError(problems)

    return _transition(
        item,
        user=user,
        allowed_from={Status.IN_REVIEW},
        to=Status.PUBLISHED,
        reason="Approved and published",
        check=check,
        reviewed_by=user,
        reviewed_by_name="",
        reviewed_on=today,
        next_review_due=today + datetime.timedelta(days=settings.REVIEW_INTERVAL_DAYS),
    )


def unpublish(*, item: Reviewable, user: AbstractBaseUser) -> Reviewable:
    """A reviewer takes an item off the public site (or reopens a retired one) as a draft to edit."""
    _require(user, publish_permission(type(item)), "Only clinical reviewers can unpublish.")
    return _transition(
        item,
        user=user,
        allowed_from={Status.PUBLISHED, Status.RETIRED},
        to=Status.DRAFT,
        reason="Unpublished to draft",
        reviewed_by=None,
        reviewed_by_name="",
        reviewed_on=None,
    )


def retire(*, item: Reviewable, user: AbstractBaseUser) -> Reviewable:
    """A reviewer withdraws an item for good; it stays in the admin and its history."""
    _require(user, publish_permission(type(item)), "Only clinical reviewers can retire content.")
    return _transition(
        item,
        user=user,
        allowed_from={Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED},
        to=Status.RETIRED,
        reason="Retired",
    )


def mark_interactions_reviewed(*, medication: Medication, user: AbstractBaseUser, reviewed: bool = True) -> Medication:
    """A reviewer records that this medicine was checked against everything else in the reviewed set."""
    _require(user, "interactions.review_medication", "Only clinical reviewers can mark interactions as reviewed.")
    with transaction.atomic():
        current = Medication.objects.select_for_update().get(pk=medication.pk)
        current.interactions_reviewed = reviewed
        if reviewed:
            # The sign-off names who checked it; it lapses after the review interval like other content.
            current.coverage_signed_by = user
            current.coverage_signer = user.get_full_name() or user.get_username()
            current.coverage_signed_on = timezone.localdate()
        current._history_user = user
        current._change_reason = "Interactions marked reviewed" if reviewed else "Interactions marked not reviewed"
        current.save()
    return current


# --- the review-due queue --------------------------------------------------------------------------


def review_due_by(today: datetime.date | None = None) -> datetime.date:
    """Content whose next review falls on or before this date is in the queue."""
    return (today or timezone.localdate()) + datetime.timedelta(days=settings.REVIEW_DUE_SOON_DAYS)


@dataclass(frozen=True)
class ReviewQueue:
    today: datetime.date
    due_by: datetime.date
    rules_due: list[Interaction]
    rules_due_count: int
    articles_due: list
    articles_due_count: int
    in_review_rules: list[Interaction]
    in_review_rules_count: int
    in_review_articles: list
    in_review_articles_count: int
    incomplete_medications: list[Medication]
    incomplete_medications_count: int
    undated_rules_count: int
    pending_revisions: list = ()
    pending_revisions_count: int = 0


def review_queue(*, today: datetime.date | None = None, limit: int = 10) -> ReviewQueue:
    """What needs a reviewer: overdue or soon-due content, items waiting for approval, and curated
    medicines whose interactions nobody has reviewed yet. A fixed number of queries."""
    from education.models import Article
    from interactions.models import Revision, RevisionState

    today = today or timezone.localdate()
    pending = Revision.objects.filter(state=RevisionState.PENDING).select_related("author", "content_type")
    due_by = review_due_by(today)
    rules_due = Interaction.objects.filter(status=Status.PUBLISHED, next_review_due__lte=due_by).order_by(
        "next_review_due", "title"
    )
    articles_due = Article.objects.filter(status=Status.PUBLISHED, next_review_due__lte=due_by).order_by(
        "next_review_due", "title"
    )
    in_review_rules = Interaction.objects.filter(status=Status.IN_REVIEW).select_related("author").order_by("title")
    in_review_articles = Article.objects.filter(status=Status.IN_REVIEW).select_related("author").order_by("title")
    incomplete = Medication.objects.filter(curated=True).not_covered(today).order_by("name")

    def first(queryset) -> list:
        return list(queryset.only("title", "slug", "status", "next_review_due")[:limit])

    return ReviewQueue(
        today=today,
        due_by=due_by,
        rules_due=first(rules_due),
        rules_due_count=rules_due.count(),
        articles_due=first(articles_due),
        articles_due_count=articles_due.count(),
        in_review_rules=list(in_review_rules[:limit]),
        in_review_rules_count=in_review_rules.count(),
        in_review_articles=list(in_review_articles[:limit]),
        in_review_articles_count=in_review_articles.count(),
        incomplete_medications=list(incomplete.only("name", "slug")[:limit]),
        incomplete_medications_count=incomplete.count(),
        undated_rules_count=Interaction.objects.filter(status=Status.PUBLISHED, next_review_due__isnull=True).count(),
        pending_revisions=list(pending.order_by("created_at")[:limit]),
        pending_revisions_count=pending.count(),
    )


# --- roles ----------------------------------------------------------------------------------------


def ensure_roles(apps=None) -> None:
    """Create (or bring up to date) the two staff groups and their permissions. Idempotent.

    Called after every migrate and flush (staff.apps) with the migrated app registry, and by
    `create_staff`.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes
    from django.db.models import Q

    registry = apps or global_apps
    for label in ("interactions", "education"):
        app_config = registry.get_app_config(label)
        # A migration's registry has no models module; these helpers skip such apps unless told otherwise.
        had_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_module or True
        try:
            create_contenttypes(app_config, verbosity=0, apps=registry)
            create_permissions(app_config, verbosity=0, apps=registry)
        finally:
            app_config.models_module = had_module

    content_type_model = registry.get_model("contenttypes", "ContentType")
    permission_model = registry.get_model("auth", "Permission")
    group_model = registry.get_model("auth", "Group")
    for app_label, model, codename, name in CUSTOM_PERMISSIONS:
        if not _model_exists(registry, app_label, f"x_{model}"):
            continue
        content_type, _ = content_type_model.objects.get_or_create(app_label=app_label, model=model)
        permission_model.objects.update_or_create(content_type=content_type, codename=codename, defaults={"name": name})
    for role, all_wanted in ROLES.items():
        # An earlier migration's registry lacks models added later: their permissions come with them.
        wanted = [(app, codename) for app, codename in all_wanted if _model_exists(registry, app, codename)]
        group, _ = group_model.objects.get_or_create(name=role)
        query = Q()
        for app_label, codename in wanted:
            query |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(permission_model.objects.filter(query))
        if len(permissions) != len(wanted):
            raise RuntimeError(f"{role}: expected {len(wanted)} permissions, found {len(permissions)}")
        group.permissions.set(permissions)


def ensure_roles_after_migrate(sender, apps=None, **kwargs) -> None:
    """post_migrate: bring the roles up to date in the migrated database (migrate passes its app
    registry; flush, which also sends it, does not: then the installed models are current)."""
    if sender.label == "interactions":
        ensure_roles(apps)


def _model_exists(registry, app_label: str, codename: str) -> bool:
    """Whether the registry has the model a permission codename ("change_listrule") is for."""
    model = codename.split("_", 1)[1]
    custom = {codename: m for _a, m, codename, _n in CUSTOM_PERMISSIONS}
    model = custom.get(codename, model)
    try:
        registry.get_model(app_label, model)
    except LookupError:
        return False
    return True
