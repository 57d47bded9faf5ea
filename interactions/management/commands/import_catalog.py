import time

from django.core.management.base import BaseCommand

from interactions.catalog import import_catalog


class Command(BaseCommand):
    help = "Import the full medicine-name dictionary shipped in drug-named-entity-recognition (offline, idempotent)."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        report = import_catalog(progress=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog: {report.medications_created:,} medicines and {report.names_created:,} names added, "
                f"{report.medications_updated:,} updated; {report.total_medications:,} medicines and "
                f"{report.total_names:,} names in all ({time.monotonic() - started:.1f} s)."
            )
        )
