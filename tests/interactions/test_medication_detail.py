import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_shows_names_classes_and_coverage(client):
    response = client.get(reverse("interactions:medication", args=["sertraline"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Sertraline</h1>" in html
    assert "Zoloft" in html
    assert "SSRI" in html


def test_a_combination_product_links_to_its_ingredients(client):
    html = client.get(reverse("interactions:medication", args=["naltrexone-and-bupropion"])).content.decode()
    assert 'href="/medications/naltrexone/"' in html
    assert 'href="/medications/bupropion/"' in html


def test_naltrexone_lists_its_dose_forms(client):
    html = client.get(reverse("interactions:medication", args=["naltrexone"])).content.decode()
    assert "Low-dose, usually 1 to 5 mg a day" in html
    assert "Monthly shot (Vivitrol)" in html


@pytest.mark.dictionary  # an imported, uncovered medicine
def test_an_unreviewed_medicine_says_so(client):
    html = client.get(reverse("interactions:medication", args=["abacavir"])).content.decode()
    assert "Not covered yet" in html
    assert "Ask your pharmacist" in html


def test_a_covered_medicine_says_who_signed_off_its_label(client):
    html = client.get(reverse("interactions:medication", args=["sertraline"])).content.decode()
    assert "Covered." in html
    assert "Signed off by MedWise content" in html
    assert "Not covered yet" not in html


def test_the_list_of_covered_medicines_names_them(client):
    html = client.get(reverse("interactions:covered")).content.decode()
    for name in ("Sertraline", "Naltrexone", "Lisinopril", "Alcohol"):
        assert f">{name}</a>" in html
    assert "Abacavir" not in html


def test_an_unknown_slug_is_404(client):
    assert client.get(reverse("interactions:medication", args=["no-such-medicine"])).status_code == 404


def test_it_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    # The medicine, its groups (and their parents), ingredients, forms, names, then its guides.
    with django_assert_num_queries(7):
        client.get(reverse("interactions:medication", args=["naltrexone"]))
