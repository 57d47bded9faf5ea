import pytest

from interactions.catalog import guess_is_brand, import_catalog, medication_slug
from interactions.models import Medication, MedicationName

pytestmark = pytest.mark.django_db


def test_the_whole_dictionary_is_in_the_catalog():
    assert Medication.objects.count() > 20_000
    assert MedicationName.objects.count() > 100_000


def test_a_second_import_adds_nothing():
    before = (Medication.objects.count(), MedicationName.objects.count())
    report = import_catalog()
    assert report.medications_created == 0
    assert report.names_created == 0
    assert report.medications_updated == 0
    assert (report.total_medications, report.total_names) == before


def test_brand_names_point_at_their_generic():
    zoloft = MedicationName.objects.select_related("medication").get(normalized="zoloft")
    assert zoloft.medication.slug == "sertraline"
    assert zoloft.is_brand
    vivitrol = MedicationName.objects.select_related("medication").get(normalized="vivitrol")
    assert vivitrol.medication.slug == "naltrexone"


def test_imported_medicines_keep_their_reference_ids():
    sertraline = Medication.objects.get(slug="sertraline")
    assert sertraline.medlineplus_id == "a697048"
    assert sertraline.drugbank_id == "DB01104"


def test_import_keeps_curated_fields():
    naltrexone = Medication.objects.get(slug="naltrexone")
    import_catalog()
    naltrexone.refresh_from_db()
    assert naltrexone.curated
    assert naltrexone.classes.filter(slug="opioid-antagonist").exists()


@pytest.mark.parametrize(
    ("canonical", "slug"),
    [("buprenorphine/naloxone", "buprenorphine-naloxone"), ("st. john's wort", "st-johns-wort")],
)
def test_slugs_are_stable(canonical, slug):
    assert medication_slug(canonical) == slug


def test_foreign_generic_names_are_not_taken_for_brands():
    assert not guess_is_brand("sertralina", "sertraline", {})
    assert not guess_is_brand("sertraline hydrochloride", "sertraline", {})
    assert guess_is_brand("lustral", "sertraline", {})


@pytest.mark.django_db
def test_no_imported_name_carries_markup_or_junk():
    from interactions.catalog import is_junk_name

    suspects = MedicationName.objects.filter(name__regex=r"[<>{}\[\]&']|cite|ref").values_list("name", flat=True)
    assert MedicationName.objects.count() > 100_000  # the whole imported dictionary
    assert [name for name in suspects if is_junk_name(name)] == []


@pytest.mark.django_db
def test_a_misspelling_is_never_shown_as_a_name_on_a_medicine_page(client):
    html = client.get("/medications/naltrexone/").content.decode()
    assert "Naltraxone" not in html and "naltraxone" not in html
    assert "Vivitrol" in html
