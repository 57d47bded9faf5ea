"""Schema-driven fuzzing of the JSON API, bounded in examples: whatever a client sends, the answer
is one of the documented statuses, matches the documented schema, and is never a server error."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interactions.openapi import document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """The fuzzer sends hundreds of requests; rate limits are tested on their own."""
    settings.RATE_LIMITS = {"search": 10**6, "check": 10**6, "edit": 10**6, "api": 10**6}


DOC = document()
SCHEMAS = DOC["components"]["schemas"]
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

text = st.text(max_size=120) | st.sampled_from(["zoloft", "Vivitrol", "naltrexone 4.5 mg", "sertaline", ""])
numbers = st.integers(min_value=-5, max_value=100).map(str) | st.text(max_size=5)


def check_against_document(path: str, response) -> None:
    documented = DOC["paths"][path]["get"]["responses"]
    assert response.status_code < 500
    assert str(response.status_code) in documented, response.status_code
    ref = documented[str(response.status_code)]["content"]["application/json"]["schema"]["$ref"]
    schema = {**SCHEMAS[ref.rsplit("/", 1)[-1]], "components": {"schemas": SCHEMAS}}
    jsonschema.validate(response.json(), schema)


@given(q=st.none() | text, limit=st.none() | numbers)
@FUZZ
def test_medication_search_follows_its_schema(client, q, limit):
    params = {k: v for k, v in {"q": q, "limit": limit}.items() if v is not None}
    check_against_document("/api/v1/medications", client.get("/api/v1/medications", params))


@given(meds=st.lists(text, max_size=35))
@FUZZ
def test_check_follows_its_schema(client, meds):
    check_against_document("/api/v1/check", client.get("/api/v1/check", {"med": meds}))


def test_every_documented_path_is_served(client):
    for path in DOC["paths"]:
        response = client.get(path)  # no parameters: each answers with its documented error
        assert response.status_code == 400, path
        check_against_document(path, response)
