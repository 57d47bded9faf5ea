"""Plain-language explainer articles written by clinic staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from interactions.models import (
    ContentQuerySet,
    DrugClass,
    Interaction,
    Medication,
    Reference,
    Status,
    published_has_reviewer,
)


class Audience(models.TextChoices):
    PATIENTS = "patients", _("Patients")
    PROFESSIONALS = "professionals", _("Professionals")


class ArticleQuerySet(ContentQuerySet):
    def published(self) -> ArticleQuerySet:
        return self.filter(status=Status.PUBLISHED)


class ArticleManager(models.Manager.from_queryset(ArticleQuerySet)):
    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    topic = models.CharField(max_length=80, help_text=_("Groups articles on the library page."))
    summary = models.CharField(max_length=300, help_text=_("One sentence."))
    body = models.TextField(help_text=_("Markdown. Raw HTML is removed."))
    body_html = models.TextField(editable=False, blank=True)
    toc_html = models.TextField(editable=False, blank=True)
    reading_grade = models.DecimalField(max_digits=4, decimal_places=1, null=True, editable=False)
    word_count = models.PositiveIntegerField(default=0, editable=False)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.PATIENTS)
    medications = models.ManyToManyField(Medication, blank=True, related_name="articles")
    drug_classes = models.ManyToManyField(DrugClass, blank=True, related_name="articles")
    interactions = models.ManyToManyField(Interaction, blank=True, related_name="articles")
    references = models.ManyToManyField(Reference, blank=True, related_name="articles")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by_name = models.CharField(
        max_length=120,
        blank=True,
        help_text=_("Who approved shipped content that no account here approved (set by the content loaders)."),
    )
    next_review_due = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ArticleManager()
    history = HistoricalRecords(m2m_fields=[references])

    class Meta:
        ordering = ["topic", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(author__isnull=True) | Q(reviewed_by__isnull=True) | ~Q(reviewed_by=models.F("author")),
                name="article_reviewer_not_author",
            ),
            models.CheckConstraint(condition=published_has_reviewer(), name="article_published_has_reviewer"),
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(reviewed_on__isnull=False),
                name="article_published_has_review_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("education:article", args=[self.slug])

    def publish_problems(self) -> list[str]:
        """What stops this article from being published, in words for the person fixing it."""
        problems = []
        if not self.summary.strip():
            problems.append("Add a one-sentence summary.")
        if not self.body.strip():
            problems.append("Write the article body.")
        return problems

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


@receiver(pre_save, sender=Article)
def _render_article(sender, instance: Article, **kwargs) -> None:
    from education.markdown import render_article

    rendered = render_article(instance.body)
    instance.body_html = rendered.html
    instance.toc_html = rendered.toc_html
    instance.reading_grade = rendered.reading_grade
    instance.word_count = rendered.word_count
    if not kwargs.get("raw"):
        instance.updated_at = timezone.now()
