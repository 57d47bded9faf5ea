from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "Load the curated catalog, the full medicine dictionary, the reviewed rules and the articles."

    def handle(self, *args, **options) -> None:
        call_command("loaddata", str(FIXTURES / "catalog.json"), verbosity=1)
        call_command("import_catalog")
        call_command("loaddata", str(FIXTURES / "interactions.json"), verbosity=1)
        call_command("load_articles")
