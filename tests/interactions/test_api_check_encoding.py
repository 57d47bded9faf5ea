"""The API check is encoded from pieces kept per finding and content version: the answer must be the
very bytes the plain encoding of the whole dict gives, for any list, with each finding anywhere on it."""

import json
import random

import pytest
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.urls import reverse
from django.utils import translation

from interactions import api, checker
from interactions.checker import CheckEntry, FindingKind
from interactions.models import Medication, MedicationName
from tests.clinical.test_label_cases import CASES
from tests.medicines import THIRTY

pytestmark = pytest.mark.django_db
URL = reverse("interactions:api_check")
# Every language the app has, and one it has not (only Django's own catalogue): pieces kept for one
# language are never served in another.
LANGUAGES = [*(code for code, _name in settings.LANGUAGES), "es"]


def plain(checked: api.CheckedList) -> str:
    """The answer as JsonResponse encoded it before pieces were kept."""
    return json.dumps(api.checked_payload(checked), cls=DjangoJSONEncoder)


def assert_same(names: list[str]) -> api.CheckedList:
    checked = api.check_list(api.parse_check_request(names))
    assert api.checked_json(checked) == plain(checked), names
    return checked


def kept_pieces() -> dict:
    return {key: value for key, value in checker.reviewed_content()._rendered.items() if key[0].startswith("api-")}


@pytest.fixture
def cold():
    """No piece kept yet, as in a fresh process."""
    checker.reviewed_content()._rendered.clear()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_label_case_encodes_as_the_plain_dict_would(cold, language):
    kinds = set()
    with translation.override(language):
        for _round in ("cold", "warm"):
            for _name, case in CASES:
                checked = assert_same(case["meds"])
                kinds.update(f.kind for f in checked.result.findings)
    assert kinds == set(FindingKind)


@pytest.mark.parametrize("seed", range(6))
def test_random_lists_of_covered_medicines_encode_as_the_plain_dict_would(seed):
    names = sorted(
        set(MedicationName.objects.filter(medication__interactions_reviewed=True).values_list("name", flat=True))
    )
    rng = random.Random(seed)
    findings = 0
    for _list in range(15):
        picked = rng.sample(names, rng.randint(1, settings.MEDLIST_MAX_ENTRIES))
        if len(picked) > 2 and rng.random() < 0.3:
            picked[-1] = picked[0]  # the same medicine twice
        if rng.random() < 0.2:
            picked[rng.randrange(len(picked))] = "qwzx unknown"  # one name nothing matches
        findings += len(assert_same(picked).result.findings)
    assert findings >= 100


def test_pairs_not_reviewed_encode_as_the_plain_dict_would():
    testamine = Medication.objects.create(slug="testamine", name="Testamine", curated=False)
    MedicationName.objects.create(medication=testamine, name="Testamine")
    checked = assert_same(["Testamine", "sertraline", "Ultram", "testamine", "alcohol"])
    assert any(pair.unreviewed for pair in checked.result.pairs)
    assert any(pair.unreviewed for pair in api.check_list(["Testamine", "Zoloft"]).result.pairs)


def test_the_view_sends_the_bytes_jsonresponse_would(client):
    names = [*THIRTY[:12], "Zoloft", "naltrexone 4.5 mg", "sertralinexx zz"]
    expected = JsonResponse(api.check_payload(api.parse_check_request(names)))
    for response in (
        client.get(URL, {"med": names}),
        client.post(URL, {"med": names}, content_type="application/json"),
    ):
        assert response.status_code == 200
        assert response.content == expected.content
        assert response["Content-Type"] == expected["Content-Type"] == "application/json"


def test_a_finding_is_encoded_once_wherever_it_sits(cold, monkeypatch):
    encoded = []
    payload = api.finding_payload
    monkeypatch.setattr(api, "finding_payload", lambda finding: encoded.append(finding.ingredients) or payload(finding))
    pair = ("sertraline", "tramadol")
    api.checked_json(api.check_list(list(pair)))
    assert encoded.count(pair) == 1
    body = api.checked_json(api.check_list(["ibuprofen", "naltrexone", *pair]))
    assert encoded.count(pair) == 1  # met again at other positions: filled in, not encoded again
    assert [f["entries"] for f in json.loads(body)["findings"] if tuple(f["ingredients"]) == pair] == [[2, 3]]


def test_a_publish_drops_the_pieces(client):
    pair = [CheckEntry("sertraline"), CheckEntry("tramadol")]
    before = client.get(URL, {"med": ["sertraline", "tramadol"]}).content
    assert kept_pieces()
    kept = checker.reviewed_content()
    rule = next(f.rule for f in checker.check(pair).findings if f.rule is not None)
    type(rule).objects.filter(pk=rule.pk).update(summary="A new summary, just approved.")
    after = client.get(URL, {"med": ["sertraline", "tramadol"]}).content
    assert checker.reviewed_content() is not kept
    assert b"A new summary, just approved." in after and after != before


def test_pieces_kept_are_bounded(cold, monkeypatch):
    monkeypatch.setattr(checker, "RENDERED_CACHE_SIZE", 3)
    assert_same(THIRTY)
    assert len(checker.reviewed_content()._rendered) <= 3
    assert_same(THIRTY)


def test_nothing_kept_names_the_list(cold):
    checked = assert_same(["zOlOfT", "qwzx unknown", "tramadol", "naltrexone 4.5 mg"])
    assert checked.result.findings
    kept = repr(kept_pieces())
    assert kept_pieces()
    assert "zOlOfT" not in kept and "qwzx" not in kept and "4.5 mg" not in kept
    assert '"entries": [' not in kept  # no positions: each answer fills them in


@pytest.mark.parametrize(
    "payload",
    [
        {"entries": [0, 1], "status": "finding", "severity": None},
        {"kind": "x", "entries": [], "title": 'Say "no" \u2014 \u00e9'},
        {"key": "k", "entries": [2, 5, 9]},
        {"entries": [1]},
    ],
)
def test_a_slotted_piece_is_the_encoding_cut_at_its_slot(payload):
    head, tail = api._slotted(payload)
    assert head + json.dumps(payload["entries"]) + tail == json.dumps(payload, cls=DjangoJSONEncoder)
