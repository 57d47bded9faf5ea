from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, served by the two-factor staff site (django-otp's site, as its docs suggest)."""

    default = False  # named in INSTALLED_APPS in place of django.contrib.admin
    default_site = "staff.sites.StaffAdminSite"


class StaffConfig(AppConfig):
    """The clinic staff workspace: review workflow, roles, revisions, import and export (no models)."""

    default = True
    name = "staff"
    verbose_name = "Staff workspace"

    def ready(self) -> None:
        from staff.workflow import ensure_roles_after_migrate

        # After every migrate and every flush, so the roles exist in any database, tests' included.
        post_migrate.connect(ensure_roles_after_migrate, dispatch_uid="staff-roles")
