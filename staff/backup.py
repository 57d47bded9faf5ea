"""Content backups (`make backup`, `make restore`): what they hold, and a restore that cannot half-fail.

A backup is Django's JSON serialization of BACKUP_MODELS with natural keys: slugs, not database ids,
so it loads into any database. It names staff accounts (authors, reviewers, coverage sign-offs) by
username but does not hold them: password hashes and authenticator secrets belong in the database
backup, not in a file that travels. A restore into an empty database therefore creates each missing
account as a placeholder that cannot sign in (inactive, no usable password, no staff rights, no
authenticator) until an operator claims it with `create_staff USERNAME --claim`.

`read_backup()` checks the whole file before anything is written; the restore_content command
then creates the placeholders and loads the file in one transaction, so a file that fails half-way
leaves nothing behind. Existing accounts are never changed.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from staff.importexport import ImportFileError, decode_text, parse_json

# What `make backup` dumps (manage.py backup_content): every patient content model and the staff groups.
# Not the edit history or pending revisions: both point at database ids, which a natural-key restore
# does not keep. Not the accounts (see above).
BACKUP_MODELS = (*settings.PATIENT_CONTENT_MODELS, "auth.Group")
# dumpdata compresses by the output's extension (make backup BACKUP=....json.gz); loaddata reads them back.
OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}


class BackupFileError(ImportFileError):
    """The file is not a content backup this app can restore; nothing has been written."""


@dataclass(frozen=True)
class Backup:
    path: Path
    objects: int
    usernames: frozenset[str]  # every account the content names, whether or not it exists here


def read_backup(path: Path) -> Backup:
    """Read and check a whole backup file: its shape, its models, and the accounts it refers to."""
    suffixes = path.suffixes[-2:]  # case-sensitive, as loaddata reads them
    compression = suffixes[-1] if suffixes and suffixes[-1] in OPENERS else None
    if (suffixes[-2:-1] if compression else suffixes[-1:]) != [".json"]:
        raise BackupFileError(f"{path.name}: a content backup is a .json file (or .json.gz, .json.bz2, .json.xz).")
    if not path.is_file():
        raise BackupFileError(f"{path}: no such file.")
    try:
        with OPENERS.get(compression, open)(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:  # gzip.BadGzipFile is an OSError
        raise BackupFileError(f"{path.name}: cannot be read ({exc}).") from None
    data = parse_json(decode_text(raw, path.name), path.name)
    if not isinstance(data, list) or not data:
        raise BackupFileError(f"{path.name}: expected the list of objects that `make backup` writes.")
    allowed = {label.lower(): apps.get_model(label) for label in BACKUP_MODELS}
    usernames: set[str] = set()
    for number, item in enumerate(data, start=1):
        where = f"{path.name} object {number}"
        if not isinstance(item, dict) or not isinstance(item.get("fields"), dict):
            raise BackupFileError(f"{where}: expected an object with 'model' and 'fields'.")
        label = item.get("model")
        model = allowed.get(label.lower()) if isinstance(label, str) else None
        if model is None:
            raise BackupFileError(f"{where}: {label!r} is not content a backup holds ({', '.join(BACKUP_MODELS)}).")
        usernames |= _usernames(model, item["fields"], where)
    return Backup(path=path, objects=len(data), usernames=frozenset(usernames))


def _usernames(model, fields: dict[str, Any], where: str) -> set[str]:
    """The accounts one object names: its foreign keys (and many-to-many lists) to the user model."""
    user_model = get_user_model()
    found = set()
    for field in model._meta.concrete_fields + model._meta.many_to_many:
        if field.related_model is not user_model or fields.get(field.name) is None:
            continue
        value = fields[field.name]
        keys = value if field.many_to_many else [value]
        for key in keys if isinstance(keys, list) else [keys]:
            found.add(_username(key, f"{where} ({field.name})"))
    return found


def _username(key: Any, where: str) -> str:
    # A user's natural key is [username]; a bare number is a database id (a dump without natural keys).
    if not (isinstance(key, list) and len(key) == 1 and isinstance(key[0], str)):
        raise BackupFileError(
            f"{where}: names an account by {key!r}, not by username; make the backup with `make backup` "
            "(--natural-foreign)."
        )
    user_model = get_user_model()
    try:
        user_model._meta.get_field(user_model.USERNAME_FIELD).clean(key[0], None)
    except ValidationError as error:
        raise BackupFileError(f"{where}: {key[0][:60]!r} is not a username: {' '.join(error.messages)}") from None
    return key[0]


def create_placeholder_accounts(usernames: frozenset[str] | set[str]) -> list[str]:
    """Create each missing account as a placeholder that cannot sign in; return their usernames, sorted.
    Accounts that exist (active or not) are left exactly as they are."""
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    with transaction.atomic():
        existing = set(user_model._default_manager.filter(**{f"{field}__in": usernames}).values_list(field, flat=True))
        created = sorted(set(usernames) - existing)
        for username in created:
            user = user_model(**{field: username}, is_active=False, is_staff=False, is_superuser=False)
            user.set_unusable_password()
            user.save()
    return created
