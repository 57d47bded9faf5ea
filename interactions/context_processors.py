import functools

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _


def site(request: HttpRequest) -> dict[str, str | int]:
    """Emergency numbers for the footer and every urgent warning."""
    return {
        "EMERGENCY_NUMBER": settings.EMERGENCY_NUMBER,
        "CRISIS_LINE": settings.CRISIS_LINE,
        "POISON_CONTROL": settings.POISON_CONTROL,
        # Patient copy says what the settings do, so it stays true when an operator changes them.
        "MEDLIST_IDLE_TIME": _idle_time(settings.MEDLIST_IDLE_SECONDS, get_language()),
        "MEDLIST_MAX_ENTRIES": settings.MEDLIST_MAX_ENTRIES,
    }


@functools.lru_cache(maxsize=64)
def _idle_time(seconds: int, language: str | None) -> str:
    # Every page needs it, and its words are the same for a language: worked out once for each.
    return plain_duration(seconds)


def plain_duration(seconds: int) -> str:
    """A length of time in plain words, to the nearest minute: "2 hours", "30 minutes", "1 hour and 15 minutes"."""
    hours, minutes = divmod(max(1, round(seconds / 60)), 60)
    hours_text = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minutes_text = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    if hours and minutes:
        return _("%(hours)s and %(minutes)s") % {"hours": hours_text, "minutes": minutes_text}
    return hours_text if hours else minutes_text
