"""Reading grade of patient text: one measure (Flesch-Kincaid) and one limit for everything we show."""

from __future__ import annotations

from decimal import Decimal

import textstat

MAX_GRADE = 8.0


def reading_grade(text: str) -> float:
    return textstat.flesch_kincaid_grade(text)


def rounded_grade(text: str) -> Decimal:
    """The grade to one decimal place, never below 0 (empty text reads at 0)."""
    if not text.strip():
        return Decimal("0.0")
    return Decimal(str(round(max(reading_grade(text), 0.0), 1)))
