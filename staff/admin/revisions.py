"""The revision review page: what a proposed change alters, and what patients would see after it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from interactions.models import (
    Revision,
    RevisionState,
)
from staff import revisions


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
