import jsonschema
import pytest
from django.urls import reverse

from interactions import checker
from interactions.openapi import document
from interactions.search import invalidate_index
from tests.medicines import THIRTY

pytestmark = pytest.mark.django_db
URL = reverse("interactions:api_check")
SCHEMAS = document()["components"]["schemas"]


def validate(data, schema_name):
    schema = {**SCHEMAS[schema_name], "$defs": {}}
    resolver_doc = {"components": {"schemas": SCHEMAS}, **schema}
    jsonschema.validate(data, resolver_doc)


def get(client, *meds, **extra):
    query = "&".join(f"med={m}" for m in meds)
    return client.get(f"{URL}?{query}", **extra)


def test_it_checks_a_list_as_typed(client):
    response = client.get(URL, {"med": ["Vivitrol", "oxycodone"]})
    assert response.status_code == 200
    data = response.json()
    validate(data, "CheckResult")
    assert [m["slug"] for m in data["medications"]] == ["naltrexone", "oxycodone"]
    assert data["medications"][0]["regimen"] == "naltrexone-injection"
    assert data["medications"][0]["query"] == "Vivitrol"
    finding = data["findings"][0]
    assert finding["kind"] == "interaction"
    assert finding["severity"] == "contraindicated"
    assert finding["entries"] == [0, 1]
    assert finding["ingredients"] == ["naltrexone", "oxycodone"]
    assert finding["urgent_signs"]
    assert finding["references"] and finding["references"][0]["citation"]
    assert finding["timing"]["days"] == 10
    keys = [m["key"] for m in data["safety_messages"]]
    assert any("injection" in key for key in keys)  # the shot's own messages
    assert not any("low-dose" in key for key in keys)


def test_a_strength_selects_the_dose(client):
    data = client.get(URL, {"med": ["naltrexone 4.5 mg", "Zoloft"]}).json()
    assert data["medications"][0]["regimen"] == "naltrexone-low-dose"
    assert data["medications"][1]["slug"] == "sertraline"
    assert data["findings"][0]["severity"] == "none"


def test_a_combination_product_lists_its_ingredients(client):
    data = client.get(URL, {"med": ["Contrave", "Vivitrol"]}).json()
    validate(data, "CheckResult")
    assert data["medications"][0]["ingredients"] == ["bupropion", "naltrexone"] or data["medications"][0][
        "ingredients"
    ] == ["naltrexone", "bupropion"]
    kinds = {f["kind"] for f in data["findings"]}
    assert "duplicate-ingredient" in kinds


def test_unknown_names_go_to_unresolved_with_positions_kept(client):
    data = client.get(URL, {"med": ["zoloft", "qwzxqwzx", "tramadol"]}).json()
    validate(data, "CheckResult")
    assert data["unresolved"] == [{"query": "qwzxqwzx", "suggestions": []}]
    assert data["findings"][0]["entries"] == [0, 2]


def test_unresolved_names_get_suggestions_when_close(client):
    data = client.get(URL, {"med": ["zoloft", "sertralinexx zz"]}).json()
    assert data["unresolved"][0]["suggestions"]


@pytest.mark.dictionary  # an imported, uncovered medicine
def test_uncovered_pairs_are_reported_as_not_reviewed(client):
    data = client.get(URL, {"med": ["zoloft", "abacavir"]}).json()
    validate(data, "CheckResult")
    assert data["findings"] == []
    assert data["pairs"] == [
        {"entries": [0, 1], "status": "not-reviewed", "severity": None, "not_reviewed": [["sertraline", "abacavir"]]}
    ]
    assert data["medications"][1]["covered"] is False


@pytest.mark.parametrize(
    "meds",
    [[], [""], ["  "], ["x" * 10_000], ["zoloft"] * 31, ["zoloft", ""]],
)
def test_bad_input_gets_400(client, meds):
    response = client.get(URL, {"med": meds})
    assert response.status_code == 400
    data = response.json()
    validate(data, "Error")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ｚｏｌｏｆｔ", True),
        ("💊", False),
        ("\u202e", False),
        ("'; DROP TABLE x; --", False),
        ("zol\x00oft", True),
        ("Z̷o̷l̷", False),
    ],
)
def test_odd_unicode_never_errors(client, text, found):
    response = client.get(URL, {"med": [text, "tramadol"]})
    assert response.status_code == 200
    data = response.json()
    validate(data, "CheckResult")
    assert [m["slug"] for m in data["medications"]] == (["sertraline", "tramadol"] if found else ["tramadol"])
    assert [u["query"] for u in data["unresolved"]] == ([] if found else [text])


def test_thirty_medicines_are_accepted(client):
    response = client.get(URL, {"med": ["zoloft"] * 30})
    assert response.status_code == 200


def test_it_rejects_other_methods(client):
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_the_openapi_document_is_valid_openapi_3():
    from jsonschema import Draft202012Validator

    doc = document()
    assert doc["openapi"].startswith("3.")
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert set(doc["paths"]) == {"/api/v1/medications", "/api/v1/check"}


def test_the_openapi_document_is_served(client):
    response = client.get(reverse("interactions:api_openapi"))
    assert response.status_code == 200
    assert response.json() == document()


@pytest.mark.parametrize("q", ["zoloft", "naltrexone 4.5 mg", "qwzxqwzx", "VIVITROL"])
def test_medication_search_responses_match_the_schema(client, q):
    response = client.get(reverse("interactions:api_medications"), {"q": q})
    assert response.status_code == 200
    validate(response.json(), "MedicationResults")


def test_medication_search_errors_match_the_schema(client):
    response = client.get(reverse("interactions:api_medications"))
    assert response.status_code == 400
    validate(response.json(), "Error")


def post(client, body, content_type="application/json"):
    return client.post(URL, body, content_type=content_type)


def test_post_answers_exactly_as_get(client):
    meds = ["Vivitrol", "oxycodone", "sertraline", "no such medicine"]
    by_get = client.get(URL, {"med": meds})
    by_post = post(client, {"med": meds})
    assert by_post.status_code == 200
    assert by_post.json() == by_get.json()
    validate(by_post.json(), "CheckResult")


def test_post_needs_no_csrf_token_because_it_reads_no_cookie():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, {"med": ["sertraline", "tramadol"]}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"med": "sertraline"}', b'{"med": [1, 2]}', b'{"other": []}', b"\xff\xfe", b"[" * 5000],
)
def test_a_bad_post_body_gets_a_clear_400(client, body):
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_huge_post_body_is_refused(client):
    response = post(client, {"med": ["x" * 100] * 200})
    assert response.status_code == 400


def test_check_answers_are_never_stored(client):
    for response in (client.get(URL, {"med": ["sertraline"]}), post(client, {"med": ["sertraline"]})):
        assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.get(URL)["Cache-Control"]  # the 400 too


# --- the payload's shape, pinned before the API moved into one module ------------------------------


def test_thirty_medicines_come_back_in_order_with_every_pair(client):
    from itertools import combinations

    from interactions.models import SEVERITY_RANK

    data = client.get(URL, {"med": THIRTY}).json()
    validate(data, "CheckResult")
    assert [m["query"] for m in data["medications"]] == THIRTY
    assert [m["slug"] for m in data["medications"]] == THIRTY
    assert data["unresolved"] == []
    assert [p["entries"] for p in data["pairs"]] == [list(pair) for pair in combinations(range(30), 2)]
    ranks = [SEVERITY_RANK[f["severity"]] for f in data["findings"]]
    assert ranks == sorted(ranks, reverse=True)
    pair_findings = {tuple(f["entries"]) for f in data["findings"] if f["kind"] != "whole-list"}
    assert {tuple(p["entries"]) for p in data["pairs"] if p["status"] == "finding"} == pair_findings
    combination = data["medications"][THIRTY.index("naltrexone-and-bupropion")]
    assert sorted(combination["ingredients"]) == ["bupropion", "naltrexone"]


def test_typos_and_strengths_resolve_as_in_search(client):
    data = client.get(URL, {"med": ["sertaline", "tramadl", "oxycodon", "naltrexon 50 mg"]}).json()
    validate(data, "CheckResult")
    assert [(m["query"], m["slug"], m["regimen"]) for m in data["medications"]] == [
        ("sertaline", "sertraline", None),
        ("tramadl", "tramadol", None),
        ("oxycodon", "oxycodone", None),
        ("naltrexon 50 mg", "naltrexone", "naltrexone-tablet"),
    ]


def test_only_unknown_names_give_an_empty_check(client):
    names = [f"qwzx{i}zzq" for i in range(30)]
    data = client.get(URL, {"med": names}).json()
    validate(data, "CheckResult")
    assert data == {
        "medications": [],
        "unresolved": [{"query": name, "suggestions": []} for name in names],
        "findings": [],
        "pairs": [],
        "safety_messages": [],
    }


# --- a fixed number of queries -------------------------------------------------------------------

UNKNOWN_NAMES = [f"qwzx{i}zzq" for i in range(30)]
LISTS = {"2 medicines": THIRTY[:2], "10 medicines": THIRTY[:10], "30 medicines": THIRTY, "30 unknown": UNKNOWN_NAMES}


@pytest.mark.parametrize("names", LISTS.values(), ids=LISTS)
def test_a_check_runs_the_same_queries_whatever_the_list(client, names, django_assert_num_queries):
    checker._memo = None  # as in a fresh process
    invalidate_index()
    known = names is not UNKNOWN_NAMES
    # First: the content version, the search index (5), the reviewed-content index (8) and, when any
    # name is known, its medicines with their groups, doses and ingredients (8: each list holds a
    # combination product).
    with django_assert_num_queries(22 if known else 14):
        first = client.get(URL, {"med": names})
    # Then only the content version, read once for the search index and the check alike.
    with django_assert_num_queries(1):
        again = client.get(URL, {"med": names})
    with django_assert_num_queries(1):
        by_post = client.post(URL, {"med": names}, content_type="application/json")
    assert first.json() == again.json() == by_post.json()
    assert len(first.json()["medications"] if known else first.json()["unresolved"]) == len(names)


def test_every_name_resolves_as_its_own_search_would(client):
    from interactions.search import best_match, suggest

    names = ["Vivitrol", "naltrexone 4.5 mg", "sertaline", "Contrave", "hydrocodone/apap", "Tylenol 3"]
    unknown = ["qwzxqwzx", "sertralinexx zz", "oxycodoneqq zz"]
    data = client.get(URL, {"med": [*names, *unknown]}).json()
    expected = [best_match(name) for name in names]
    assert [(m["slug"], m["regimen"]) for m in data["medications"]] == [(r.slug, r.regimen) for r in expected]
    assert data["unresolved"] == [{"query": name, "suggestions": suggest(name)} for name in unknown]
    assert any(u["suggestions"] for u in data["unresolved"])


def test_the_api_gives_every_label_case_its_answer():
    """The clinical label cases, as typed, through the API's own resolution and payload: its pairs
    carry the verdict each case's labels support."""
    from interactions.api import check_payload, parse_check_request
    from interactions.models import SEVERITY_RANK
    from tests.clinical.test_label_cases import CASES, NONE, NOT_REVIEWED, resolve

    checked = 0
    for name, case in CASES:
        if case.get("list"):
            continue  # a whole-list rule is named by slug, which the API does not show
        data = check_payload(parse_check_request(case["meds"]))
        if [m["slug"] for m in data["medications"]] != [resolve(text).slug for text in case["meds"]]:
            continue  # typed as a curated slug that search reads otherwise
        severities = [p["severity"] for p in data["pairs"] if p["severity"]]
        if severities:
            got = max(severities, key=lambda s: SEVERITY_RANK[s])
        elif any(p["status"] == "not-reviewed" for p in data["pairs"]):
            got = NOT_REVIEWED
        else:
            got = NONE
        assert got == case["expect"], f"{name} {case['meds']}"
        checked += 1
    assert checked >= len(CASES) - 40
