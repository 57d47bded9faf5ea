"""A name the person types means one medicine: the dictionary never gives a curated medicine's name
(or any name already given out) to a second medicine."""

from __future__ import annotations

import pytest
from django.db.models import Count

from interactions.models import MedicationName
from interactions.search import best_match

pytestmark = [pytest.mark.django_db, pytest.mark.dictionary]


def test_no_name_sits_on_two_medicines_after_the_full_import():
    shared = (
        MedicationName.objects.values("normalized")
        .annotate(holders=Count("medication", distinct=True))
        .filter(holders__gt=1)
    )
    assert list(shared.values_list("normalized", flat=True)[:20]) == []


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("lithium carbonate", "lithium"),
        ("hycodan", "hydrocodone-and-homatropine"),
        ("naltrexone/bupropion", "naltrexone-and-bupropion"),
        ("ethanol", "alcohol"),
        ("marijuana", "cannabis"),
        ("co-codamol", "acetaminophen-and-codeine"),
        ("lantus", "insulin"),
        ("synthroid", "levothyroxine"),
        ("quetiapine fumarate", "quetiapine"),
    ],
)
def test_a_name_a_curated_medicine_holds_finds_that_medicine(typed, slug):
    assert best_match(typed).slug == slug
