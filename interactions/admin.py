"""The clinic staff workspace: two-factor sign-in, the review queue, and the catalog and rule admins.

Workflow rules live in interactions/workflow.py; this module only wires them into the admin. Every
check that matters is made on the server, in the views and actions, whatever the buttons show.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from interactions import revisions, workflow
from interactions.checker import rule_finding
from interactions.models import (
    DrugClass,
    Interaction,
    ListRule,
    Medication,
    MedicationName,
    Reference,
    Regimen,
    Revision,
    RevisionAction,
    RevisionState,
    StandingMessage,
    Status,
)
from interactions.report import SEVERITY_ICONS, FindingView

# --- sign-in and the site -------------------------------------------------------------------------


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Username, password and the code from the authenticator app, on one form.

    Each person has one TOTP device, so nobody has to pick it. A wrong code counts as a failed
    sign-in for django-axes, and gets the same message as a wrong password.
    """

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct username, password and authenticator code for a staff account. "
            "Note that the password is case-sensitive."
        ),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        token = self.fields["otp_token"]
        token.required = True
        token.label = "Code from your authenticator app"
        token.widget.attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "8"})

    def _chosen_device(self, user):
        chosen = super()._chosen_device(user)
        return chosen or TOTPDevice.objects.devices_for_user(user, confirmed=True).first()

    def clean_otp(self, user) -> None:
        try:
            super().clean_otp(user)
        except ValidationError:
            user_login_failed.send(
                sender=type(self), credentials={"username": user.get_username()}, request=self.request
            )
            raise self.get_invalid_login_error() from None


class StaffAdminSite(OTPAdminSite):
    """The stock admin, open only to staff who signed in with a password and a TOTP code."""

    site_header = "MedWise staff workspace"
    site_title = "MedWise staff"
    index_title = "Content and review"
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"
    index_template = "admin/staff_index.html"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        context = {"review_queue": workflow.review_queue(), **(extra_context or {})}
        return super().index(request, context)


# The default site becomes the two-factor site, as django-otp documents; the admin stays at /admin/.
admin.site.__class__ = StaffAdminSite


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
    the live version stays until someone else approves it (interactions/revisions.py).
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
            problems = workflow.publish_problems(obj)
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


class DrugClassSideFilter(admin.SimpleListFilter):
    title = "drug class"
    parameter_name = "class"

    def lookups(self, request, model_admin):
        return list(DrugClass.objects.values_list("slug", "name"))

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(Q(drug_class_a__slug=self.value()) | Q(drug_class_b__slug=self.value()))
        return queryset


class InteractionAdminForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = [
            "medication_a",
            "drug_class_a",
            "regimen_a",
            "medication_b",
            "drug_class_b",
            "regimen_b",
            "severity",
            "title",
            "slug",
            "summary",
            "action",
            "urgent_signs",
            "washout_days",
            "washout_stop",
            "timing",
            "mechanism",
            "evidence",
            "references",
            "next_review_due",
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        for side in ("a", "b"):
            medication = cleaned.get(f"medication_{side}")
            drug_class = cleaned.get(f"drug_class_{side}")
            regimen = cleaned.get(f"regimen_{side}")
            if bool(medication) == bool(drug_class):
                self.add_error(
                    f"medication_{side}", f"Side {side.upper()}: choose one medication or one drug class, not both."
                )
            elif regimen is not None and (medication is None or regimen.medication_id != medication.pk):
                self.add_error(f"regimen_{side}", "This dose form belongs to a different medication.")
        severity = cleaned.get("severity")
        if severity in workflow.URGENT_SEVERITIES and not cleaned.get("urgent_signs", "").strip():
            self.add_error(
                "urgent_signs",
                "Add at least one urgent warning sign: 'avoid combining' and 'serious' rules must tell people "
                "when to get emergency help.",
            )
        live = self.instance.pk and self.instance.status == Status.PUBLISHED
        if live and "references" in self.fields and not cleaned.get("references"):
            self.add_error("references", "A published rule needs at least one reference.")
        if not self.errors:
            self._reject_duplicate(cleaned)
        return cleaned

    def _reject_duplicate(self, cleaned: dict) -> None:
        candidate = Interaction(
            **{
                f"{kind}_{side}_id": getattr(cleaned.get(f"{kind}_{side}"), "pk", None)
                for kind in ("medication", "drug_class", "regimen")
                for side in ("a", "b")
            }
        )
        existing = (
            Interaction.objects.filter(pair_key=candidate.compute_pair_key()).exclude(pk=self.instance.pk).first()
        )
        if existing is not None:
            url = reverse("admin:interactions_interaction_change", args=[existing.pk])
            raise ValidationError(
                format_html(
                    'A rule for this pair already exists: <a href="{}">{}</a> ({}). Edit that rule instead.',
                    url,
                    existing.title,
                    existing.get_status_display().lower(),
                ),
                code="duplicate",
            )


def _side_label(rule: Interaction, side: str) -> str:
    medication = getattr(rule, f"medication_{side}")
    if medication is not None:
        regimen = getattr(rule, f"regimen_{side}")
        return f"{medication.name} ({regimen.name.lower()})" if regimen is not None else medication.name
    drug_class = getattr(rule, f"drug_class_{side}")
    return drug_class.name if drug_class is not None else "?"


@admin.register(Interaction)
class InteractionAdmin(WorkflowAdmin):
    form = InteractionAdminForm
    list_display = ["title", "pair", "severity", "status", "next_review_due", "author", "updated_at"]
    list_filter = ["status", "severity", DrugClassSideFilter, ReviewDueFilter, "evidence"]
    list_select_related = [
        "medication_a",
        "medication_b",
        "drug_class_a",
        "drug_class_b",
        "regimen_a",
        "regimen_b",
        "author",
    ]
    search_fields = [
        "title",
        "slug",
        "summary",
        "medication_a__name",
        "medication_b__name",
        "drug_class_a__name",
        "drug_class_b__name",
    ]
    autocomplete_fields = [
        "medication_a",
        "drug_class_a",
        "regimen_a",
        "medication_b",
        "drug_class_b",
        "regimen_b",
        "references",
    ]
    ordering = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    list_per_page = 100
    fieldsets = [
        (
            "The pair",
            {
                "description": "Each side is one medication (optionally one dose form of it) or one drug class.",
                "fields": [
                    ("medication_a", "regimen_a", "drug_class_a"),
                    ("medication_b", "regimen_b", "drug_class_b"),
                ],
            },
        ),
        (
            "What patients read",
            {
                "fields": [
                    "title",
                    "slug",
                    "severity",
                    "summary",
                    "action",
                    "urgent_signs",
                    "timing",
                    ("washout_days", "washout_stop"),
                ]
            },
        ),
        ("Evidence", {"fields": ["evidence", "mechanism", "references"]}),
        (
            "Review",
            {
                "description": (
                    "Status changes only through the workflow buttons. Editors cannot change a published or "
                    "retired rule: a change to a published rule is saved as a revision that another reviewer approves."
                ),
                "fields": [
                    "status",
                    "author",
                    "reviewed_by",
                    "reviewed_by_name",
                    "reviewed_on",
                    "next_review_due",
                    "reading_levels",
                    "updated_at",
                ],
            },
        ),
    ]
    readonly_fields = ["updated_at"]

    @admin.display(description="Pair")
    def pair(self, rule: Interaction) -> str:
        return f"{_side_label(rule, 'a')} + {_side_label(rule, 'b')}"

    def render_preview(self, request: HttpRequest, rule: Interaction) -> HttpResponse:
        rule.published_articles = list(rule.articles.published().only("slug", "title", "topic"))
        # Built by the checker's own finding builder, so the preview is exactly what patients see.
        finding = rule_finding(rule, first_name=_side_label(rule, "a"), second_name=_side_label(rule, "b"))
        item = FindingView(
            finding=finding,
            pair_label=f"{_side_label(rule, 'a')} with {_side_label(rule, 'b')}",
            icon=SEVERITY_ICONS[rule.severity],
            dom_id="finding-1",
        )
        context = {
            "item": item,
            "rule": rule,
            "is_published": rule.status == Status.PUBLISHED,
            "change_url": reverse("admin:interactions_interaction_change", args=[rule.pk]),
        }
        return render(request, "admin/interactions/interaction/preview.html", context)


# --- the catalog ------------------------------------------------------------------------------------


class CoverageFilter(admin.SimpleListFilter):
    title = "interaction coverage"
    parameter_name = "coverage"

    def lookups(self, request, model_admin):
        return [("incomplete", "Curated, not covered (or sign-off lapsed)"), ("complete", "Covered")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "incomplete":
            return queryset.filter(curated=True).not_covered()
        if self.value() == "complete":
            return queryset.exclude(pk__in=Medication.objects.not_covered().values("pk"))
        return queryset


class MedicationNameInline(admin.TabularInline):
    """The medicine's names, to read: each name is added or changed on its own page, as a revision."""

    model = MedicationName
    extra = 0
    fields = ["name", "is_brand", "is_misspelling"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Medication)
class MedicationAdmin(HistoryAdmin):
    list_display = ["name", "slug", "kind", "class_list", "curated", "interactions_reviewed", "coverage_status"]
    list_filter = [CoverageFilter, "kind", "curated", "interactions_reviewed", "classes"]
    list_select_related = []  # no foreign keys; classes are prefetched in get_queryset
    search_fields = ["name", "slug"]
    autocomplete_fields = ["classes", "ingredients"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MedicationNameInline]
    actions = ["mark_interactions_reviewed", "mark_interactions_not_reviewed"]
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("classes")

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # Who signed and when are set only by the sign-off action, never typed in.
        fields = [
            *super().get_readonly_fields(request, obj),
            "coverage_signed_by",
            "coverage_signer",
            "coverage_signed_on",
            "coverage_status",
        ]
        if not self.has_review_coverage_permission(request):
            fields.append("interactions_reviewed")
        return fields

    @admin.display(description="Coverage")
    def coverage_status(self, medication: Medication) -> str:
        """Covered (signed by whom, until when), or what blocks it: so staff see what is left to do."""
        problems = medication.coverage_problems()
        if not problems and medication.is_covered():
            return f"Covered: signed by {medication.coverage_signer} on {medication.coverage_signed_on}, " + (
                f"due again {medication.coverage_expires_on()}"
            )
        return " ".join(str(p) for p in problems) or "Not covered."

    def has_review_coverage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("interactions.review_medication")

    @admin.display(description="Classes")
    def class_list(self, medication: Medication) -> str:
        return ", ".join(c.name for c in medication.classes.all())

    def _mark(self, request: HttpRequest, queryset: QuerySet, reviewed: bool) -> None:
        count = 0
        for medication in queryset:
            workflow.mark_interactions_reviewed(medication=medication, user=request.user, reviewed=reviewed)
            count += 1
        state = "reviewed" if reviewed else "not reviewed"
        self.message_user(request, f"{count} medication(s) marked interactions {state}.", messages.SUCCESS)

    @admin.action(description="Mark interactions as reviewed", permissions=["review_coverage"])
    def mark_interactions_reviewed(self, request, queryset):
        self._mark(request, queryset, reviewed=True)

    @admin.action(description="Mark interactions as not reviewed", permissions=["review_coverage"])
    def mark_interactions_not_reviewed(self, request, queryset):
        self._mark(request, queryset, reviewed=False)


@admin.register(MedicationName)
class MedicationNameAdmin(HistoryAdmin):
    list_display = ["name", "medication", "is_brand", "normalized"]
    list_filter = ["is_brand"]
    list_select_related = ["medication"]
    search_fields = ["name", "normalized", "medication__name"]
    autocomplete_fields = ["medication"]
    ordering = ["name"]
    list_per_page = 100


@admin.register(DrugClass)
class DrugClassAdmin(HistoryAdmin):
    list_display = ["name", "slug", "kind", "parent", "duplicate_severity"]
    list_filter = ["kind", "duplicate_severity"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent", "also_in"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Regimen)
class RegimenAdmin(HistoryAdmin):
    list_display = ["name", "medication", "route", "min_mg", "max_mg", "position"]
    list_filter = ["route"]
    list_select_related = ["medication"]
    search_fields = ["name", "slug", "medication__name"]
    autocomplete_fields = ["medication", "implied_by_brands", "classes"]
    ordering = ["medication__name", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Reference)
class ReferenceAdmin(HistoryAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["key", "short_citation", "url", "doi", "pubmed_id"]
    list_filter = []
    list_select_related = []  # no foreign keys
    search_fields = ["key", "citation", "doi", "pubmed_id"]
    autocomplete_fields = []
    ordering = ["key"]

    @admin.display(description="Citation")
    def short_citation(self, reference: Reference) -> str:
        return str(reference)


@admin.register(ListRule)
class ListRuleAdmin(WorkflowAdmin):
    list_display = ["title", "drug_class", "min_count", "with_class", "severity", "status", "next_review_due"]
    list_filter = ["status", "severity"]
    list_select_related = ["drug_class", "with_class"]
    search_fields = ["title", "slug", "summary", "drug_class__name"]
    autocomplete_fields = ["drug_class", "with_class", "references"]
    ordering = ["title"]
    prepopulated_fields = {"slug": ["title"]}

    def render_preview(self, request: HttpRequest, rule: ListRule) -> HttpResponse:
        return _content_preview(request, rule, "admin:interactions_listrule_change")


@admin.register(StandingMessage)
class StandingMessageAdmin(WorkflowAdmin):
    list_display = ["title", "medication", "regimen", "drug_class", "position", "status", "next_review_due"]
    list_filter = ["status"]
    list_select_related = ["medication", "regimen", "drug_class"]
    search_fields = ["title", "slug", "text", "medication__name", "drug_class__name"]
    autocomplete_fields = ["medication", "regimen", "drug_class", "references"]
    ordering = ["position", "title"]
    prepopulated_fields = {"slug": ["title"]}

    def render_preview(self, request: HttpRequest, message: StandingMessage) -> HttpResponse:
        return _content_preview(request, message, "admin:interactions_standingmessage_change")


def _content_preview(request: HttpRequest, item, change_url_name: str) -> HttpResponse:
    context = {
        "item": item,
        "is_published": item.status == Status.PUBLISHED,
        "change_url": reverse(change_url_name, args=[item.pk]),
    }
    return render(request, "admin/interactions/content_preview.html", context)


# --- revisions: proposed changes waiting for a second person -------------------------------------------


class RevisionStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return RevisionState.choices

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(state=self.value()) if self.value() else queryset


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    """Read-only: a revision is written by saving the item's own form and decided here."""

    list_display = ["__str__", "content_type", "action", "state", "author", "created_at", "decided_by"]
    list_filter = [RevisionStateFilter, "content_type", "action"]
    list_select_related = ["content_type", "author", "decided_by"]
    search_fields = ["object_label", "note"]
    change_form_template = "admin/interactions/revision_review.html"
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(require_POST(self.decide_view)),
                name="interactions_revision_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        revision = self.get_object(request, unquote(object_id))
        if revision is None or not self.has_view_permission(request, revision):
            return super().change_view(request, object_id, form_url, extra_context)
        live = revision.live_object()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(revision),
            "revision": revision,
            "impact": revisions.impact(revision, user=request.user),
            "live": live,
            "live_url": _change_url(live),
            "can_approve": revision.state == RevisionState.PENDING
            and revisions.can_approve(request.user, revision)
            and revision.author_id != request.user.pk,
            "is_author": revision.author_id == request.user.pk,
            "is_pending": revision.state == RevisionState.PENDING,
        }
        response = render(request, self.change_form_template, context)
        add_never_cache_headers(response)
        return response

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        revision = self.get_object(request, unquote(object_id))
        if revision is None:
            raise Http404
        decision = request.POST.get("decision", "")
        steps = {
            "approve": (lambda: revisions.approve(revision=revision, user=request.user), "approved: it is live now"),
            "send_back": (
                lambda: revisions.send_back(revision=revision, user=request.user, note=request.POST.get("note", "")),
                "sent back: nothing changed for patients",
            ),
            "withdraw": (lambda: revisions.withdraw(revision=revision, user=request.user), "withdrawn"),
        }
        if decision not in steps:
            raise PermissionDenied("Unknown decision.")
        step, done = steps[decision]
        try:
            step()  # raises PermissionDenied itself
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, f"Revision {revision.pk} was {done}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:interactions_revision_change", args=[revision.pk]))


def _change_url(obj) -> str:
    if obj is None:
        return ""
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
