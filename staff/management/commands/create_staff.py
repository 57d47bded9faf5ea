"""Create a clinic staff account (content editor or clinical reviewer) with its authenticator app.

    python manage.py create_staff alice --role reviewer --email alice@example.org
    python manage.py create_staff admin --new-device      # a new authenticator for an existing account
    python manage.py create_staff alice --claim --role reviewer   # activate a placeholder a restore made

The password is asked for twice (or read from DJANGO_STAFF_PASSWORD with --noinput) and checked
against the password validators. The command prints a QR code and an otpauth:// link for the
person's authenticator app: every staff sign-in needs its 6-digit code.

A content restore (restore_content) creates each author or reviewer it does not find as an inactive
placeholder with no password. --claim gives such an account (or any inactive one) a password, a new
authenticator and a role, and activates it. Without --claim the command refuses an inactive account.
"""

from __future__ import annotations

import getpass
import io
import os

import qrcode
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.workflow import EDITOR_GROUP, REVIEWER_GROUP, ensure_roles

ROLE_GROUPS = {"editor": EDITOR_GROUP, "reviewer": REVIEWER_GROUP}
PASSWORD_ENV = "DJANGO_STAFF_PASSWORD"  # noqa: S105 - the name of a variable, not a password


class Command(BaseCommand):
    help = "Create a content editor or clinical reviewer, or give an existing account a new authenticator."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLE_GROUPS), help="editor or reviewer")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--new-device",
            action="store_true",
            help="Replace the account's authenticator (lost phone, or the first superuser).",
        )
        parser.add_argument(
            "--claim",
            action="store_true",
            help="Activate an inactive account (a restore's placeholder): a password, an authenticator and a role.",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help=f"Do not prompt: a new account's password comes from {PASSWORD_ENV}.",
        )

    def handle(
        self,
        *args,
        username: str,
        role: str | None,
        email: str,
        new_device: bool,
        claim: bool,
        interactive: bool,
        **opts,
    ):
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if claim:
            self._check_claimable(user, username, role)
        elif user is None and role is None:
            raise CommandError(f"There is no account '{username}'. Give --role editor or --role reviewer to create it.")
        elif user is not None and not user.is_active:
            raise CommandError(
                f"'{username}' is inactive and cannot sign in (a placeholder from a content restore, or a "
                "deactivated account). Use --claim --role editor|reviewer to give it a password and activate it."
            )
        with transaction.atomic():
            ensure_roles()
            if claim:
                user.set_password(self._password(username, user.email or email, interactive))
                user.is_active = user.is_staff = True
                user.email = user.email or email
                user.save(update_fields=["password", "is_active", "is_staff", "email"])
                new_device = True  # whatever authenticator an inactive account had is not the claimant's
                self.stdout.write(f"Claimed '{username}': it is active and has a new password.")
            elif user is None:
                password = self._password(username, email, interactive)
                user = user_model(username=username, email=email, is_staff=True)
                user.set_password(password)
                user.save()
                self.stdout.write(f"Created staff account '{username}'.")
            elif role is not None and not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            if role is not None:
                user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUPS.values()))
                user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
                self.stdout.write(f"'{username}' is now a {ROLE_GROUPS[role].lower()}.")
            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            device = None
            if new_device or not has_device:
                TOTPDevice.objects.filter(user=user).delete()
                device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        if device is None:
            self.stdout.write("The account keeps its authenticator app (use --new-device to replace it).")
        else:
            self._show_enrolment(device)

    def _check_claimable(self, user, username: str, role: str | None) -> None:
        if user is None:
            raise CommandError(f"There is no account '{username}' to claim.")
        if user.is_active:
            raise CommandError(f"'{username}' is already active: there is nothing to claim.")
        if role is None and not user.groups.filter(name__in=ROLE_GROUPS.values()).exists():
            raise CommandError(f"'{username}' has no role yet: give --role editor or --role reviewer.")

    def _password(self, username: str, email: str, interactive: bool) -> str:
        user = get_user_model()(username=username, email=email)
        if not interactive:
            password = os.environ.get(PASSWORD_ENV, "")
            if not password:
                raise CommandError(f"Set {PASSWORD_ENV} to the new account's password when using --noinput.")
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            return password
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The passwords did not match.")
                continue
            try:
                validate_password(password, user)
            except ValidationError as error:
                self.stderr.write(" ".join(error.messages))
                continue
            return password

    def _show_enrolment(self, device: TOTPDevice) -> None:
        url = device.config_url
        code = qrcode.QRCode(border=1)
        code.add_data(url)
        code.make(fit=True)
        picture = io.StringIO()
        code.print_ascii(out=picture, invert=True)
        self.stdout.write("Scan this with the person's authenticator app (Google Authenticator, Authy, 1Password…):")
        self.stdout.write(picture.getvalue())
        self.stdout.write("Or enter this link or key by hand (keep it secret; it is shown only now):")
        self.stdout.write(url)
        self.stdout.write(
            self.style.SUCCESS("Sign in at /admin/ with the username, the password and the 6-digit code.")
        )
