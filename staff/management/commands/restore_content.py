"""Restore a content backup (what `make restore FILE=...` runs), into an empty database or over one.

    python manage.py restore_content backups/content-20261122-193000.json

The whole file is checked first. Then, in one transaction, every account the content names as
author, reviewer or coverage signer that does not exist here is created as a placeholder (inactive,
no usable password, no staff rights) and the content is loaded; any error undoes all of it. A
placeholder cannot sign in until an operator claims it:

    python manage.py create_staff USERNAME --claim --role reviewer

Objects with the same natural key (slug) are overwritten; objects missing from the file are kept.
Existing accounts are never changed. Restoring the same file twice changes nothing the second time.
"""

from __future__ import annotations

from pathlib import Path

from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from staff import backup
from staff.importexport import ImportFileError


class Command(BaseCommand):
    help = "Restore a content backup made by `make backup`, creating missing staff accounts as placeholders."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A backup written by `make backup` (.json, or .json.gz/.bz2/.xz).")

    def handle(self, *args, file: str, verbosity: int, **options) -> None:
        try:
            content = backup.read_backup(Path(file).resolve())
        except ImportFileError as error:
            raise CommandError(f"{error} Nothing was restored.") from None
        try:
            with transaction.atomic():
                created = backup.create_placeholder_accounts(content.usernames)
                # An absolute path: loaddata looks a bare name up in every app's fixtures directory first.
                call_command("loaddata", str(content.path), verbosity=verbosity, stdout=self.stdout)
        except (serializers.base.DeserializationError, DatabaseError, ValidationError, ObjectDoesNotExist) as error:
            raise CommandError(f"{error}\nNothing was restored.") from None
        self.stdout.write(f"Restored {content.objects} objects from {content.path.name}.")
        if not created:
            self.stdout.write("Every account the content names already exists; no account was created or changed.")
            return
        self.stdout.write(
            self.style.WARNING(
                f"Created {len(created)} placeholder account(s), inactive and without a password: {', '.join(created)}."
            )
        )
        self.stdout.write(
            "They cannot sign in. Claim each one for its person: "
            "python manage.py create_staff USERNAME --claim --role editor|reviewer"
        )
