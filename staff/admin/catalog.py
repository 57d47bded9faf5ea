"""The catalog and rule admins: medicines, names, groups, doses, references and the rules between them."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from interactions.checker import rule_finding
from interactions.models import (
    URGENT_SEVERITIES,
    DrugClass,
    Interaction,
    ListRule,
    Medication,
    MedicationName,
    Reference,
    Regimen,
    StandingMessage,
    Status,
)
from interactions.report import SEVERITY_ICONS, FindingView
from staff import workflow
from staff.admin.base import HistoryAdmin, ReviewDueFilter, WorkflowAdmin


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
            *Interaction.SIDE_FIELDS,
            "slug",
            *Interaction.TEXT_FIELDS,
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
        if severity in URGENT_SEVERITIES and not cleaned.get("urgent_signs", "").strip():
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
                "fields": [*workflow.WORKFLOW_FIELDS, "reading_levels", "updated_at"],
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
