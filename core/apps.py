from django.apps import AppConfig, apps
from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Site plumbing"

    def ready(self) -> None:
        from core.content_version import bump

        # Models are named in settings, so this package imports no app.
        for label in settings.PATIENT_CONTENT_MODELS:
            model = apps.get_model(label)
            post_save.connect(bump, sender=model, dispatch_uid=f"content-{label}-save")
            post_delete.connect(bump, sender=model, dispatch_uid=f"content-{label}-delete")
            for field in model._meta.many_to_many:
                m2m_changed.connect(bump, sender=field.remote_field.through, dispatch_uid=f"content-{field}-m2m")
