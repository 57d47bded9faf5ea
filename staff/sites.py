"""The staff admin site: open only to staff who signed in with a password and a TOTP code."""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import workflow

# --- sign-in and the site -------------------------------------------------------------------------


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Username, password and the code from the authenticator app, on one form.

    Each person has one TOTP device, so nobody has to pick it. A wrong code counts as a failed
    sign-in for django-axes, and gets the same message as a wrong password.
    """

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct username, password and authenticator code for a staff account. "
            "Note that the password is case-sensitive."
        ),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        token = self.fields["otp_token"]
        token.required = True
        token.label = "Code from your authenticator app"
        token.widget.attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "8"})

    def _chosen_device(self, user):
        chosen = super()._chosen_device(user)
        return chosen or TOTPDevice.objects.devices_for_user(user, confirmed=True).first()

    def clean_otp(self, user) -> None:
        try:
            super().clean_otp(user)
        except ValidationError:
            user_login_failed.send(
                sender=type(self), credentials={"username": user.get_username()}, request=self.request
            )
            raise self.get_invalid_login_error() from None


class StaffAdminSite(OTPAdminSite):
    """The stock admin, open only to staff who signed in with a password and a TOTP code."""

    site_header = "MedWise staff workspace"
    site_title = "MedWise staff"
    index_title = "Content and review"
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"
    index_template = "admin/staff_index.html"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        context = {"review_queue": workflow.review_queue(), **(extra_context or {})}
        return super().index(request, context)
