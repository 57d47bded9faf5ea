"""Seed articles kept as Markdown files with a JSON front matter block in fixtures/articles/."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from education.models import Article
from interactions.content_packs import SHIPPED_REVIEWER
from interactions.models import DrugClass, Interaction, Medication, Reference, Status

SEED_REVIEWED_ON = datetime.date(2026, 11, 22)
REVIEW_INTERVAL = datetime.timedelta(days=365)


class ArticleFileError(ValueError):
    pass


@dataclass(frozen=True)
class ArticleSource:
    meta: dict
    body: str


def parse_article_file(path: Path) -> ArticleSource:
    text = path.read_text(encoding="utf-8")
    parts = text.split("\n---\n", 1)
    if not text.startswith("---\n") or len(parts) != 2:
        raise ArticleFileError(f"{path.name}: expected a front matter block between '---' lines")
    try:
        meta = json.loads(parts[0][4:])
    except json.JSONDecodeError as exc:
        raise ArticleFileError(f"{path.name}: front matter is not valid JSON ({exc})") from exc
    for field in ("title", "slug", "topic", "summary"):
        if not meta.get(field):
            raise ArticleFileError(f"{path.name}: front matter needs '{field}'")
    return ArticleSource(meta=meta, body=parts[1].strip() + "\n")


@transaction.atomic
def load_articles(directory: Path) -> int:
    count = 0
    for path in sorted(directory.glob("*.md")):
        source = parse_article_file(path)
        meta = source.meta
        article = Article.objects.filter(slug=meta["slug"]).first() or Article(slug=meta["slug"])
        article.title = meta["title"]
        article.topic = meta["topic"]
        article.summary = meta["summary"]
        article.body = source.body
        if article.pk is None:
            article.status = Status.PUBLISHED
            article.reviewed_on = SEED_REVIEWED_ON
            article.reviewed_by_name = SHIPPED_REVIEWER
            article.next_review_due = SEED_REVIEWED_ON + REVIEW_INTERVAL
        article.save()
        article.medications.set(Medication.objects.filter(slug__in=meta.get("medications", [])))
        article.drug_classes.set(DrugClass.objects.filter(slug__in=meta.get("drug_classes", [])))
        article.interactions.set(Interaction.objects.filter(slug__in=meta.get("interactions", [])))
        references = []
        for ref in meta.get("references", []):
            reference, _ = Reference.objects.get_or_create(
                key=ref["key"],
                defaults={
                    "citation": ref["citation"],
                    "url": ref.get("url", ""),
                    "doi": ref.get("doi", ""),
                    "pubmed_id": ref.get("pubmed_id", ""),
                },
            )
            references.append(reference)
        article.references.set(references)
        count += 1
    return count
