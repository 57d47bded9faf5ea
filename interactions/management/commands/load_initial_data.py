from django.core.management.base import BaseCommand

from interactions.content_packs import load_initial_content


class Command(BaseCommand):
    help = "Load the curated catalog, the full medicine dictionary, the reviewed rules and the articles."

    def handle(self, *args, **options) -> None:
        load_initial_content(dictionary=True, verbosity=1)
