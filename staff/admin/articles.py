"""Articles in the staff workspace: the shared review workflow, plus a live Markdown preview."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import add_never_cache_headers, patch_vary_headers

from core.htmx import template_for
from education.markdown import render_article
from education.models import Article
from interactions.models import Status
from staff import workflow
from staff.admin.base import ReviewDueFilter, WorkflowAdmin

MAX_PREVIEW_CHARS = 200_000


@admin.register(Article)
class ArticleAdmin(WorkflowAdmin):
    change_form_template = "admin/education/article/change_form.html"
    list_display = ["title", "topic", "status", "audience", "reading_grade", "next_review_due", "author", "updated_at"]
    list_filter = ["status", "audience", "topic", ("drug_classes", admin.RelatedOnlyFieldListFilter), ReviewDueFilter]
    list_select_related = ["author"]
    search_fields = ["title", "slug", "summary", "topic"]
    autocomplete_fields = ["medications", "drug_classes", "interactions", "references"]
    ordering = ["topic", "title"]
    prepopulated_fields = {"slug": ["title"]}
    list_per_page = 100
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "topic", "audience", "summary"]}),
        (
            "Body",
            {
                "description": "Markdown: ## for a heading, - for a list item, [words](https://…) for a link.",
                "fields": ["body"],
            },
        ),
        ("Links", {"fields": ["medications", "drug_classes", "interactions", "references"]}),
        (
            "Review",
            {
                "description": (
                    "Status changes only through the workflow buttons. A change to a published article "
                    "is saved as a revision that another reviewer approves."
                ),
                "fields": [*workflow.WORKFLOW_FIELDS, "reading_levels", "updated_at"],
            },
        ),
    ]

    def get_urls(self):
        return [
            path(
                "markdown-preview/",
                self.admin_site.admin_view(self.markdown_preview_view),
                name="education_article_markdown_preview",
            ),
            *super().get_urls(),
        ]

    def markdown_preview_view(self, request: HttpRequest) -> HttpResponse:
        """The body rendered exactly as the public page renders it: the full page, or the pane for htmx."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        rendered = render_article(request.POST.get("body", "")[:MAX_PREVIEW_CHARS])
        target = Decimal(settings.READING_GRADE_TARGET)
        context = {
            **self.admin_site.each_context(request),
            "title": "Article preview",
            "opts": self.model._meta,
            "rendered": rendered,
            "target": target,
            "over_target": rendered.reading_grade > target,
        }
        template = "admin/education/article/markdown_preview.html"
        response = TemplateResponse(request, template_for(request, template, "preview-pane"), context)
        patch_vary_headers(response, ["HX-Request"])
        add_never_cache_headers(response)
        return response

    def render_preview(self, request: HttpRequest, article: Article) -> HttpResponse:
        interactions = article.interactions.published().select_related(
            "medication_a", "medication_b", "drug_class_a", "drug_class_b", "regimen_a", "regimen_b"
        )
        context = {
            "article": article,
            "is_draft": article.status != Status.PUBLISHED,
            "interactions": sorted(interactions, key=lambda rule: (-rule.severity_rank, rule.title)),
        }
        return render(request, "education/article_detail.html", context)
