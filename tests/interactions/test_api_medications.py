import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("interactions:api_medications")


def test_it_returns_ranked_results(client):
    response = client.get(URL, {"q": "zoloft", "limit": "3"})
    assert response.status_code == 200
    data = response.json()
    assert data["query"] == "zoloft"
    assert data["results"][0] == {
        "slug": "sertraline",
        "name": "Sertraline",
        "matched_name": "Zoloft",
        "is_brand": True,
        "kind": "prescription",
        "regimen": None,
    }
    assert len(data["results"]) == 1
    for limit in (1, 2):
        limited = client.get(URL, {"q": "naltrexone", "limit": limit}).json()["results"]
        assert len(limited) == limit
        assert limited[0]["slug"] == "naltrexone"


def test_a_strength_selects_the_regimen(client):
    data = client.get(URL, {"q": "naltrexone 4.5 mg"}).json()
    assert data["results"][0]["slug"] == "naltrexone"
    assert data["results"][0]["regimen"] == "naltrexone-low-dose"


def test_unknown_names_give_an_empty_list(client):
    response = client.get(URL, {"q": "qwzxqwzx"})
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 10_000},
        {"q": "zoloft", "limit": "0"},
        {"q": "zoloft", "limit": "abc"},
        {"q": "zoloft", "limit": "-1"},
        {"q": "zoloft", "limit": "51"},
        {"q": "zoloft", "limit": "1e3"},
        {"q": "zoloft", "limit": "²"},
        {"q": "zoloft", "limit": "٣"},
    ],
)
def test_bad_input_gets_400_with_an_error(client, params):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("text", "slugs"),
    [
        ("ｚｏｌｏｆｔ", ["sertraline"]),
        ("💊", []),
        ("\u202e", []),
        ("'; DROP TABLE x; --", []),
        ("zol\x00oft", ["sertraline"]),
    ],
)
def test_odd_unicode_never_errors(client, text, slugs):
    response = client.get(URL, {"q": text})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert [r["slug"] for r in response.json()["results"]] == slugs


def test_it_rejects_post(client):
    assert client.post(URL).status_code == 405


@pytest.mark.parametrize("params", [{"q": "zoloft", "limit": "1"}, {"q": "sert", "limit": "50"}, {"q": "qwzxqwzx"}])
def test_a_search_runs_one_query(client, params, django_assert_num_queries):
    client.get(URL, params)
    with django_assert_num_queries(1):  # the content version
        assert client.get(URL, params).status_code == 200
