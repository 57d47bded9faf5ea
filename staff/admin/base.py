"""What every staff admin page shares: the edit history, the review workflow's buttons and checks, and the
revisions that hold a change to published content until someone else approves it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from interactions.models import (
    RevisionAction,
    Status,
)
from staff import revisions, workflow

# --- shared pieces ----------------------------------------------------------------------------------


class ReviewDueFilter(admin.SimpleListFilter):
    title = "review due"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("due", f"Overdue or due within {settings.REVIEW_DUE_SOON_DAYS} days"),
            ("overdue", "Overdue"),
            ("unset", "Published, no review date"),
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        today = timezone.localdate()
        published = queryset.filter(status=Status.PUBLISHED)
        if self.value() == "due":
            return published.filter(next_review_due__lte=workflow.review_due_by(today))
        if self.value() == "overdue":
            return published.filter(next_review_due__lt=today)
        if self.value() == "unset":
            return published.filter(next_review_due__isnull=True)
        return queryset


def _grade_list(item) -> str:
    target = Decimal(settings.READING_GRADE_TARGET)
    rows = [
        (
            "grade-warning" if grade > target else "grade-ok",
            label,
            grade,
            f" — above grade {target}, please simplify" if grade > target else "",
        )
        for label, grade in workflow.reading_levels(item)
    ]
    if not rows:
        return "—"
    return format_html(
        '<ul class="reading-levels">{}</ul>',
        format_html_join("", '<li class="{}">{}: grade {}{}</li>', rows),
    )


WORKFLOW_BUTTONS = [
    # (transition, label, needs publish permission, statuses it applies to)
    ("submit", "Submit for review", False, {Status.DRAFT}),
    ("return", "Send back to draft", False, {Status.IN_REVIEW}),
    ("publish", "Approve and publish", True, {Status.IN_REVIEW}),
    ("unpublish", "Unpublish to draft", True, {Status.PUBLISHED, Status.RETIRED}),
    ("retire", "Retire", True, {Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED}),
]
TRANSITIONS = {
    "submit": (workflow.submit_for_review, "submitted for review"),
    "return": (workflow.return_to_draft, "sent back to draft"),
    "publish": (workflow.publish, "approved and published"),
    "unpublish": (workflow.unpublish, "moved back to draft"),
    "retire": (workflow.retire, "retired"),
}
LOCKED_EXPLANATION = (
    "This item is {status}. Content editors cannot change retired content. A clinical reviewer can "
    "reopen it as a draft."
)


class ReadableHistory(HistoricalRecordContextHelper):
    """History deltas in the words the admin uses: choice labels, and a dash for 'nothing'."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if value is None or value == "" or (isinstance(value, DeletedObject) and value.pk is None):
            return "—"
        if field.choices and not field.many_to_many:
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    """Every content model: who changed what and when, restoring an old version, and revisions.

    A restore is an edit, so it obeys the same permissions as the change form, checked against the
    current row (simple-history itself only asks for view permission before saving a restore).

    Where a save would change what patients see (every catalog item; published rules, articles and
    messages) the form's values become a pending Revision instead, for anyone, reviewers included:
    the live version stays until someone else approves it (staff/revisions.py).
    """

    change_form_template = "admin/revisioned_change_form.html"

    # Saving: propose instead of write where patients would see it.

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        live = type(obj).objects.get(pk=obj.pk) if change else None
        if not revisions.needs_revision(self.model, live if change else None):
            super().save_model(request, obj, form, change)
            return
        fields = revisions.proposable_fields(self.model)
        values = {name: value for name, value in form.cleaned_data.items() if name in fields}
        request.proposed_revision = revisions.propose(
            model=self.model,
            obj=live,
            values=values,
            user=request.user,
            action=RevisionAction.CHANGE if change else RevisionAction.ADD,
        )
        request.proposed = True
        form.save_m2m = lambda: None  # many-to-many values wait in the revision too (history restore calls this)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        if not getattr(request, "proposed", False):
            super().save_related(request, form, formsets, change)

    def construct_change_message(self, request, form, formsets, add=False):
        if getattr(request, "proposed", False):
            return []  # the revision is the record; its formsets were never saved
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        if not getattr(request, "proposed", False):
            return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not getattr(request, "proposed", False):
            return super().log_change(request, obj, message)

    def response_add(self, request: HttpRequest, obj, post_url_continue=None):
        if getattr(request, "proposed", False):
            return self._proposed_response(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj):
        if getattr(request, "proposed", False):
            return self._proposed_response(request, obj)
        return super().response_change(request, obj)

    def _proposed_response(self, request: HttpRequest, obj) -> HttpResponse:
        revision = request.proposed_revision
        if revision is None:
            self.message_user(request, "Nothing changed, so nothing was sent for approval.", messages.INFO)
            return HttpResponseRedirect(request.path)
        self.message_user(
            request,
            f"Your change was saved as revision {revision.pk}. Patients still see the live version until "
            "another reviewer approves it.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:interactions_revision_change", args=[revision.pk]))

    # Deleting: also a revision where patients would notice.

    def delete_model(self, request: HttpRequest, obj) -> None:
        if not revisions.needs_revision(self.model, obj):
            super().delete_model(request, obj)
            return
        request.proposed_revision = revisions.propose(
            model=self.model, obj=obj, values={}, user=request.user, action=RevisionAction.DELETE
        )
        request.proposed = True

    def response_delete(self, request: HttpRequest, obj_display, obj_id):
        if getattr(request, "proposed", False):
            return self._proposed_response(request, None)
        return super().response_delete(request, obj_display, obj_id)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if self.model in revisions.CATALOG_MODELS:
            # Deleting catalog items one by one, each as a revision, keeps every deletion reviewable.
            actions.pop("delete_selected", None)
        return actions

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = {}
        if obj is not None:
            extra["pending_revisions"] = revisions.pending_for(obj)
            extra["proposes_revisions"] = revisions.needs_revision(self.model, obj)
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        extra = {"proposes_revisions": revisions.needs_revision(self.model, None)}
        return super().add_view(request, form_url, {**extra, **(extra_context or {})})

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistory(self.model, historical_record)

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, extra_context=None):
        current = self.get_object(request, unquote(object_id))
        if current is None:
            raise Http404
        if request.method == "POST" and not self.has_change_permission(request, current):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request: HttpRequest, obj=None) -> bool:
        current = self.get_object(request, str(obj.pk)) if obj is not None else None
        return super().revert_disabled(request, obj) or not self.has_change_permission(request, current)


class WorkflowAdmin(HistoryAdmin):
    """Shared by rules and articles: the status workflow, the edit lock, preview and history."""

    change_form_template = "admin/workflow_change_form.html"
    actions = [
        "submit_selected",
        "return_selected_to_draft",
        "publish_selected",
        "unpublish_selected",
        "retire_selected",
    ]
    history_list_display = ["status"]
    workflow_readonly = ["status", "author", "reviewed_by", "reviewed_by_name", "reviewed_on", "next_review_due"]

    # Permissions: the edit lock is enforced here, so every admin view and POST obeys it.

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return workflow.can_publish(request.user, self.model)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and workflow.can_edit(item=obj, user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Published content is retired, never deleted out from under patients.
        if not super().has_delete_permission(request, obj):
            return False
        if obj is not None and obj.status == Status.PUBLISHED:
            return False
        return obj is None or obj.status == Status.DRAFT or self.has_publish_permission(request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        if queryset.filter(status=Status.PUBLISHED).exists():
            raise PermissionDenied("Published content is retired, not deleted: retire it first.")
        if not self.has_publish_permission(request) and queryset.exclude(status=Status.DRAFT).exists():
            raise PermissionDenied("Only clinical reviewers can delete content that is not a draft.")
        super().delete_queryset(request, queryset)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        fields = [*super().get_readonly_fields(request, obj), *self.workflow_readonly, "reading_levels"]
        if obj is not None and self.has_publish_permission(request) and obj.status == Status.PUBLISHED:
            fields.remove("next_review_due")
        return fields

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if not change:
            obj.status = Status.DRAFT
            obj.author = request.user
        else:
            # Workflow fields come from the database, never from a form or an old version being restored.
            current = type(obj).objects.get(pk=obj.pk)
            editable = set(form.base_fields) if form is not None else set()
            for name in workflow.WORKFLOW_FIELDS:
                if name not in editable:
                    setattr(obj, name, getattr(current, name))
            # The first person to edit seeded content (no author) becomes its author, unless they approved it.
            unclaimed = obj.author_id is None and obj.status not in workflow.LOCKED_STATUSES
            if unclaimed and obj.reviewed_by_id != request.user.pk:
                obj.author = request.user
        super().save_model(request, obj, form, change)
        self._warn_reading_levels(request, obj)

    def _warn_reading_levels(self, request: HttpRequest, obj) -> None:
        target = Decimal(settings.READING_GRADE_TARGET)
        for label, grade in workflow.reading_levels(obj):
            if grade > target:
                messages.warning(
                    request, f"{label} reads at grade {grade}. Aim for grade {target} or below: shorter sentences."
                )

    @admin.display(description="Reading level")
    def reading_levels(self, obj) -> str:
        return _grade_list(obj) if obj is not None and obj.pk else "Shown after saving."

    # Extra views: preview, and the workflow buttons on the change form.

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            path(
                "<path:object_id>/workflow/",
                self.admin_site.admin_view(self.workflow_view),
                name="{}_{}_workflow".format(*info),
            ),
            *super().get_urls(),
        ]

    def _get_or_404(self, request: HttpRequest, object_id: str):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        return obj

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._get_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        response = self.render_preview(request, obj)
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response

    def render_preview(self, request: HttpRequest, obj) -> HttpResponse:
        raise NotImplementedError

    def workflow_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._workflow_post)(request, object_id)

    def _workflow_post(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._get_or_404(request, object_id)
        transition = request.POST.get("transition", "")
        if transition not in TRANSITIONS:
            raise PermissionDenied("Unknown workflow step.")
        function, done = TRANSITIONS[transition]
        try:
            item = function(item=obj, user=request.user)  # raises PermissionDenied itself
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, f"“{item}” was {done}.", messages.SUCCESS)
        change_url = reverse(
            f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )
        return HttpResponseRedirect(change_url)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = {}
        if obj is not None:
            can_publish = self.has_publish_permission(request)
            can_change = request.user.has_perm(f"{obj._meta.app_label}.change_{obj._meta.model_name}")
            extra["workflow_buttons"] = [
                (name, label)
                for name, label, needs_publish, statuses in WORKFLOW_BUTTONS
                if obj.status in statuses and (can_publish if needs_publish else can_change)
            ]
            extra["workflow_status"] = obj.get_status_display()
            if obj.status == Status.RETIRED and not can_publish:
                extra["workflow_locked"] = LOCKED_EXPLANATION.format(status=obj.get_status_display().lower())
            if obj.status == Status.IN_REVIEW and can_publish:
                if obj.author_id == request.user.pk:
                    extra["workflow_note"] = "You wrote this, so another reviewer must approve it."
                elif workflow.edited_by(obj, request.user):
                    extra["workflow_note"] = "You changed this text, so another reviewer must approve it."
            problems = obj.publish_problems()
            if problems and obj.status in {Status.DRAFT, Status.IN_REVIEW}:
                extra["publish_problems"] = problems
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    # Bulk actions: each item goes through the same workflow function.

    def _run_transition(self, request: HttpRequest, queryset: QuerySet, transition: str) -> None:
        function, done = TRANSITIONS[transition]
        succeeded = 0
        for obj in queryset:
            try:
                function(item=obj, user=request.user)
            except (ValidationError, PermissionDenied) as error:
                text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                self.message_user(request, f"“{obj}”: {text}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} item(s) {done}.", messages.SUCCESS)

    @admin.action(description="Submit selected for review", permissions=["change"])
    def submit_selected(self, request, queryset):
        self._run_transition(request, queryset, "submit")

    @admin.action(description="Send selected back to draft", permissions=["change"])
    def return_selected_to_draft(self, request, queryset):
        self._run_transition(request, queryset, "return")

    @admin.action(description="Approve and publish selected", permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._run_transition(request, queryset, "publish")

    @admin.action(description="Unpublish selected to draft", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self._run_transition(request, queryset, "unpublish")

    @admin.action(description="Retire selected", permissions=["publish"])
    def retire_selected(self, request, queryset):
        self._run_transition(request, queryset, "retire")


# --- interaction rules --------------------------------------------------------------------------------
