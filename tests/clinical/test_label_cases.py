"""Label-derived cases: each pair or list, as a person would type it, with the answer its labels support.

The cases live in tests/clinical/cases/*.json, one file per content pack (format: docs/content-packs.md).
Each names its source. A case is a claim about the world, not about our rules: when one fails, the
content is wrong (or the case is), never the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interactions import search as search_service
from interactions.checker import CheckEntry, PairStatus, check
from interactions.models import SEVERITY_RANK, Medication

CASES_DIR = Path(__file__).parent / "cases"
NONE = "none"
NOT_REVIEWED = "not-reviewed"


def load_cases() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.json")):
        for number, case in enumerate(json.loads(path.read_text(encoding="utf-8")), start=1):
            cases.append((f"{path.stem}#{number}", case))
    return cases


CASES = load_cases()


def resolve(text: str) -> CheckEntry:
    """A curated slug as it is; otherwise what a person typed, through the same search the API uses."""
    if Medication.objects.filter(slug=text, curated=True).exists():
        return CheckEntry(text)
    match = search_service.best_match(text)
    assert match is not None, f"{text!r} finds nothing"
    return CheckEntry(match.slug, match.regimen)


def answer(case: dict) -> str:
    entries = [resolve(text) for text in case["meds"]]
    result = check(entries)
    assert not result.unknown, case
    if case.get("list"):
        found = [f for f in result.list_findings if f.rule.slug == case["list"]]
        return found[0].severity if found else NONE
    severities = [p.severity for p in result.pairs if p.severity]
    if severities:
        worst = max(severities, key=lambda s: SEVERITY_RANK[s])
        return worst
    if any(p.status == PairStatus.NOT_REVIEWED for p in result.pairs):
        return NOT_REVIEWED
    return NONE


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_label_case(name: str, case: dict):
    assert answer(case) == case["expect"], f"{case['meds']}: source {case.get('source', '?')}"


def test_there_are_enough_cases_of_every_kind():
    expected = [case["expect"] for _, case in CASES]
    assert len(CASES) >= 500
    assert expected.count(NONE) >= 80  # over-warning is measured too
    assert sum(1 for e in expected if e in ("contraindicated", "major")) >= 150
