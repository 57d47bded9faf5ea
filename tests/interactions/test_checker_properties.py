"""Property-based checks: any list, however odd, gives a well-formed answer and never raises."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interactions.checker import SEVERITY_RANK, CheckEntry, FindingKind, PairStatus, check
from interactions.models import Regimen, Severity

pytestmark = pytest.mark.django_db

SLUGS = st.sampled_from(
    [
        "naltrexone",
        "naltrexone-and-bupropion",
        "oxycodone",
        "sertraline",
        "fluoxetine",
        "phenelzine",
        "tramadol",
        "kratom",
        "alcohol",
        "alprazolam",
        "buprenorphine-naloxone",
        "methadone",
        "ibuprofen",
        "abacavir",
        "warfarin",
        "linezolid",
        "st-johns-wort",
        "sumatriptan",
        "disulfiram",
        "acamprosate",
    ]
) | st.text(max_size=30)
REGIMENS = st.sampled_from([None, "naltrexone-low-dose", "naltrexone-tablet", "naltrexone-injection"]) | st.text(
    max_size=20
)


@given(items=st.lists(st.tuples(SLUGS, REGIMENS), max_size=30))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_list_gives_a_well_formed_result(items):
    result = check([CheckEntry(slug, regimen) for slug, regimen in items])
    resolved = len(result.entries)
    assert resolved + len(result.unknown) == len(items)
    assert len(result.pairs) == resolved * (resolved - 1) // 2
    ranks = [f.severity_rank for f in result.findings]
    assert ranks == sorted(ranks, reverse=True)
    pair_kinds = {FindingKind.INTERACTION, FindingKind.DUPLICATE_INGREDIENT, FindingKind.DUPLICATE_CLASS}
    for finding in result.findings:
        assert finding.severity in SEVERITY_RANK
        assert finding.title and finding.summary
        assert "{" not in finding.summary + finding.title  # every placeholder filled
        assert list(finding.entries) == sorted(set(finding.entries))
        assert finding.entries[-1] < len(items)
        if finding.kind == FindingKind.WHOLE_LIST:
            assert len(finding.entries) >= 2
            # the same medicine twice on a list counts once
            assert len({items[i][0] for i in finding.entries}) == len(finding.entries)
        else:
            assert finding.kind in pair_kinds
            assert len(finding.entries) == 2
    for pair in result.pairs:
        assert pair.status in {PairStatus.FINDING, PairStatus.NO_KNOWN_INTERACTION, PairStatus.NOT_REVIEWED}
        if pair.status == PairStatus.NO_KNOWN_INTERACTION:
            assert not pair.unreviewed
        pair_severities = {f.severity for f in result.findings if f.entries == pair.entries}
        # never a reassuring answer beside a warning for the same pair
        assert not (Severity.NONE in pair_severities and len(pair_severities) > 1)
    for pair in result.pairs:
        assert pair.status in {PairStatus.FINDING, PairStatus.NO_KNOWN_INTERACTION, PairStatus.NOT_REVIEWED}
        if pair.status == PairStatus.NO_KNOWN_INTERACTION:
            assert not pair.unreviewed


@given(slug=SLUGS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_medicine_alone_has_no_findings(slug):
    result = check([CheckEntry(slug)])
    assert result.findings == [] and result.pairs == []


def test_every_regimen_of_naltrexone_is_known_to_the_strategy():
    assert set(Regimen.objects.filter(medication__slug="naltrexone").values_list("slug", flat=True)) == {
        "naltrexone-low-dose",
        "naltrexone-tablet",
        "naltrexone-injection",
    }
