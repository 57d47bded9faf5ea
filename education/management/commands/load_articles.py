from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from education.content import load_articles


class Command(BaseCommand):
    help = "Create or update the seed articles from fixtures/articles/*.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--directory", default=str(Path(settings.BASE_DIR) / "fixtures" / "articles"))

    def handle(self, *args, directory: str, **options) -> None:
        count = load_articles(Path(directory))
        self.stdout.write(self.style.SUCCESS(f"Articles: {count} loaded."))
