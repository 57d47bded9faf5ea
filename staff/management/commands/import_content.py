"""Import medications, their names and interaction rules from JSON or CSV; --dry-run shows what would change.

    python manage.py import_content content.json --dry-run
    python manage.py import_content content/                 # a directory of medications/names/interactions.csv
    python manage.py import_content interactions.csv

Every row is checked first. Any row error stops the whole import (nothing is written) and is listed
with its file and row. Rows are added or updated, never deleted.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from staff import importexport
from staff.management.commands.export_content import _kinds


class Command(BaseCommand):
    help = "Import medications, names and interaction rules from JSON or CSV. Use --dry-run to see what would change."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="A .json file, a .csv file named after its kind, or a directory of them.")
        parser.add_argument("--dry-run", action="store_true", help="Check and show the changes; write nothing.")
        parser.add_argument(
            "--only", default=",".join(importexport.KINDS), help="Comma-separated: " + ", ".join(importexport.KINDS)
        )

    def handle(self, *args, path: str, dry_run: bool, only: str, **options) -> None:
        try:
            rows, errors = importexport.read_path(Path(path), _kinds(only))
        except importexport.ImportFileError as error:
            raise CommandError(str(error)) from None
        plan = importexport.plan_import(rows, errors)
        for change in plan.changed:
            self.stdout.write(("would " if dry_run else "") + change.describe())
        for kind in importexport.KINDS:
            counts = [plan.count(kind, action) for action in ("create", "update", "unchanged")]
            if any(counts):
                self.stdout.write(f"{kind}: {counts[0]} to create, {counts[1]} to update, {counts[2]} unchanged")
        if not plan.ok:
            for error in plan.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(plan.errors)} row error(s); nothing was imported.")
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
            return
        if not plan.changed:
            self.stdout.write(self.style.SUCCESS("Nothing to change."))
            return
        importexport.apply_import(plan, reason=f"Imported from {Path(path).name}")
        self.stdout.write(self.style.SUCCESS(f"Imported {len(plan.changed)} change(s)."))
