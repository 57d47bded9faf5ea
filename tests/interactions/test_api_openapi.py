"""The OpenAPI document says what the code enforces: its enums are the models' choices and its
limits the settings, read when the document is served."""

import pytest
from django.urls import reverse

from interactions.checker import FindingKind, PairStatus
from interactions.models import Interaction, ListRule, Medication
from interactions.openapi import document
from interactions.search import DEFAULT_LIMIT

pytestmark = pytest.mark.django_db
URL = reverse("interactions:api_openapi")


def choices(model, field: str) -> list[str]:
    return [value for value, _label in model._meta.get_field(field).choices]


def enum_of(schema: dict) -> list[str]:
    """The enum of a property, whether it stands alone or beside null."""
    if "enum" in schema:
        return schema["enum"]
    (enum,) = [option["enum"] for option in schema["oneOf"] if "enum" in option]
    return enum


def test_the_schema_enums_are_the_model_choices():
    schemas = document()["components"]["schemas"]
    finding = schemas["Finding"]["properties"]
    check_result = schemas["CheckResult"]["properties"]
    pair = check_result["pairs"]["items"]["properties"]
    result = schemas["MedicationResults"]["properties"]["results"]["items"]["properties"]

    assert enum_of(finding["severity"]) == choices(Interaction, "severity") == choices(ListRule, "severity")
    assert enum_of(finding["dose_variants"]["items"]["properties"]["severity"]) == choices(Interaction, "severity")
    assert enum_of(pair["severity"]) == choices(Interaction, "severity")
    assert enum_of(finding["evidence"]) == ["", *choices(Interaction, "evidence")]
    assert choices(ListRule, "evidence") == choices(Interaction, "evidence")
    assert enum_of(result["kind"]) == choices(Medication, "kind")
    assert enum_of(finding["kind"]) == [kind.value for kind in FindingKind]
    assert enum_of(pair["status"]) == [status.value for status in PairStatus]
    assert check_result["findings"]["items"] == schemas["Finding"]


def _parameters(doc: dict, path: str) -> dict:
    return {p["name"]: p["schema"] for p in doc["paths"][path]["get"]["parameters"]}


def test_the_limits_follow_the_settings(client, settings):
    settings.MEDLIST_MAX_ENTRIES = 12
    settings.SEARCH_MAX_QUERY_LENGTH = 40
    settings.SEARCH_MAX_LIMIT = 20
    doc = client.get(URL).json()
    assert doc == document()

    search = _parameters(doc, "/api/v1/medications")
    assert search["q"]["maxLength"] == 40
    assert (search["limit"]["maximum"], search["limit"]["default"]) == (20, DEFAULT_LIMIT)
    by_get = _parameters(doc, "/api/v1/check")["med"]
    by_post = doc["paths"]["/api/v1/check"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for med_list in (by_get, by_post["properties"]["med"]):
        assert med_list["maxItems"] == 12
        assert med_list["items"]["maxLength"] == 40


def test_the_api_refuses_just_past_the_documented_limits(client, settings):
    settings.MEDLIST_MAX_ENTRIES = 3
    settings.SEARCH_MAX_QUERY_LENGTH = 12
    settings.SEARCH_MAX_LIMIT = 20
    doc = document()
    med = _parameters(doc, "/api/v1/check")["med"]
    search = _parameters(doc, "/api/v1/medications")
    check_url, search_url = reverse("interactions:api_check"), reverse("interactions:api_medications")

    assert client.get(check_url, {"med": ["zoloft"] * med["maxItems"]}).status_code == 200
    assert client.get(check_url, {"med": ["zoloft"] * (med["maxItems"] + 1)}).status_code == 400
    longest = "z" * med["items"]["maxLength"]
    assert client.get(check_url, {"med": [longest]}).status_code == 200
    assert client.get(check_url, {"med": [longest + "z"]}).status_code == 400
    assert client.get(search_url, {"q": longest}).status_code == 200
    assert client.get(search_url, {"q": longest + "z"}).status_code == 400
    assert client.get(search_url, {"q": "zoloft", "limit": search["limit"]["maximum"]}).status_code == 200
    assert client.get(search_url, {"q": "zoloft", "limit": search["limit"]["maximum"] + 1}).status_code == 400
    assert len(client.get(search_url, {"q": "sert"}).json()["results"]) <= search["limit"]["default"]
