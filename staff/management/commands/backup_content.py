"""Write a content backup (what `make backup` runs): every patient content model and the staff groups,
as JSON with natural keys, so it loads into any database (`make restore`, manage.py restore_content).

    python manage.py backup_content backups/content-20261122-193000.json

The file is written beside its final name and renamed when complete, so a failed backup never leaves
a half-written file under the real name. A .gz, .bz2 or .xz name is compressed.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from staff.backup import BACKUP_MODELS


class Command(BaseCommand):
    help = "Write a content backup: the catalog, rules, articles and staff groups, with natural keys."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="Where to write the backup (.json, or .json.gz to compress).")

    def handle(self, *args, path: str, **options) -> None:
        final = Path(path)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".partial-{final.name}")
        try:
            call_command(
                "dumpdata",
                *BACKUP_MODELS,
                natural_foreign=True,
                natural_primary=True,
                indent=2,
                output=str(partial),
                verbosity=0,
            )
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(final)
        self.stdout.write(f"Backup written to {final}")
