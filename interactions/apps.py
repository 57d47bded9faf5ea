from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class InteractionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "interactions"
    verbose_name = "Medications and interactions"

    def ready(self) -> None:
        from interactions.models import Medication, MedicationName, Regimen
        from interactions.search import invalidate_index

        for model in (Medication, MedicationName, Regimen):
            post_save.connect(invalidate_index, sender=model, dispatch_uid=f"search-{model.__name__}-save")
            post_delete.connect(invalidate_index, sender=model, dispatch_uid=f"search-{model.__name__}-delete")
        m2m_changed.connect(
            invalidate_index, sender=Regimen.implied_by_brands.through, dispatch_uid="search-regimen-brands"
        )
