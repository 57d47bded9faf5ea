from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str | int]:
    """Emergency numbers for the footer and every urgent warning."""
    return {
        "EMERGENCY_NUMBER": settings.EMERGENCY_NUMBER,
        "CRISIS_LINE": settings.CRISIS_LINE,
        "POISON_CONTROL": settings.POISON_CONTROL,
        # Patient copy says what the settings do, so it stays true when an operator changes them.
        "MEDLIST_IDLE_HOURS": max(1, round(settings.MEDLIST_IDLE_SECONDS / 3600)),
        "MEDLIST_MAX_ENTRIES": settings.MEDLIST_MAX_ENTRIES,
    }
