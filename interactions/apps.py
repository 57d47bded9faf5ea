from django.apps import AppConfig, apps
from django.db.models.signals import m2m_changed, post_delete, post_save

# Everything patients see that staff can change: a change to any of them bumps the content version.
CONTENT_MODELS = [
    ("interactions", "DrugClass"),
    ("interactions", "Medication"),
    ("interactions", "MedicationName"),
    ("interactions", "Regimen"),
    ("interactions", "Reference"),
    ("interactions", "Interaction"),
    ("interactions", "ListRule"),
    ("interactions", "StandingMessage"),
    ("education", "Article"),
]


class InteractionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "interactions"
    verbose_name = "Medications and interactions"

    def ready(self) -> None:
        from interactions.content_version import bump

        for app_label, model_name in CONTENT_MODELS:
            model = apps.get_model(app_label, model_name)
            post_save.connect(bump, sender=model, dispatch_uid=f"content-{model_name}-save")
            post_delete.connect(bump, sender=model, dispatch_uid=f"content-{model_name}-delete")
            for field in model._meta.many_to_many:
                m2m_changed.connect(bump, sender=field.remote_field.through, dispatch_uid=f"content-{field}-m2m")
