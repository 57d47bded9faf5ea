from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    """Emergency numbers for the footer and every urgent warning."""
    return {
        "EMERGENCY_NUMBER": settings.EMERGENCY_NUMBER,
        "CRISIS_LINE": settings.CRISIS_LINE,
        "POISON_CONTROL": settings.POISON_CONTROL,
    }
