"""The provider sheet (check/print/) without a browser: what it lists where, what it never sends, and its words."""

import re

import pytest
from django.urls import reverse

from core.readability import rounded_grade as reading_grade
from interactions import medlist
from interactions.checker import Finding, FindingKind
from interactions.medlist import MedEntry, MedList
from interactions.models import Medication, Severity
from interactions.report import question_for
from tests.medicines import THIRTY

pytestmark = pytest.mark.django_db
PRINT = reverse("interactions:check_print")
PATIENT_GRADE_LIMIT = 8


def with_list(client, *entries):
    client.cookies[medlist.cookie_name()] = medlist.encode(MedList([MedEntry(*e) for e in entries]))


def section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by heading_id."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.index("</section>", start)]


def finding(severity: str) -> Finding:
    return Finding(FindingKind.INTERACTION, (0, 1), ("a", "b"), severity, "Title", "Summary.", "Action.")


def test_substances_are_listed_apart_from_medicines(client):
    with_list(client, ("oxycodone",), ("alcohol",), ("sertraline",), ("kratom",), ("cannabis",))
    html = client.get(PRINT).content.decode()
    medicines = section(html, "print-list-heading")
    substances = section(html, "print-substances-heading")
    for name in ("Oxycodone", "Sertraline"):
        assert name in medicines and name not in substances
    for name in ("Alcohol", "Kratom", "Cannabis"):
        assert name in substances and name not in medicines


def test_a_list_without_substances_has_no_substance_section(client):
    with_list(client, ("oxycodone",), ("sertraline",))
    assert 'aria-labelledby="print-substances-heading"' not in client.get(PRINT).content.decode()


def test_the_catalog_marks_alcohol_kratom_and_cannabis_as_substances():
    by_slug = {
        m.slug: m for m in Medication.objects.filter(slug__in=["alcohol", "kratom", "cannabis", "st-johns-wort"])
    }
    assert {slug for slug, m in by_slug.items() if m.is_substance} == {"alcohol", "kratom", "cannabis"}
    assert not by_slug["st-johns-wort"].is_substance  # a supplement stays with the medicines


def test_each_finding_is_one_line_with_its_severity_and_a_question(client):
    with_list(
        client, ("naltrexone", "naltrexone-injection", "Vivitrol"), ("oxycodone",), ("sertraline",), ("tramadol",)
    )
    html = client.get(PRINT).content.decode()
    lines = re.findall(
        r"<li><span class=\"sheet-severity[^\"]*\">([^<]+)</span>(.*?)</li>",
        section(html, "print-questions-heading"),
        re.DOTALL,
    )
    assert len(lines) >= 3
    assert lines[0][0] == Severity.CONTRAINDICATED.label
    for _severity, rest in lines:
        assert re.search(r"Ask: [^<]+\?</span>$", rest.strip()), rest


def cards(html: str) -> list[tuple[str, str]]:
    """(id, heading) of each finding card."""
    return re.findall(r'<h3 id="(finding-[\w-]+)-title">(.*?)</h3>', html, re.DOTALL)


def test_the_full_explanations_are_the_check_pages_cards_with_nothing_folded_and_no_sources(client):
    with_list(client, ("naltrexone",), ("oxycodone",), ("sertraline",), ("tramadol",))
    check = client.get(reverse("interactions:check")).content.decode()
    sheet = section(client.get(PRINT).content.decode(), "print-findings-heading")
    assert len(cards(check)) >= 3
    assert cards(sheet) == cards(check)
    assert sheet.count('<article class="finding ') == sheet.count(" print-finding") == len(cards(check))
    assert '<details class="sources">' in check and "<details" not in sheet.replace('<details class="also" open>', "")
    assert '<details class="also">' in check and '<details class="also" open>' in sheet


def test_typed_fields_cannot_be_sent_anywhere(client):
    """No form, no field names: what a person types on the sheet has no way to reach the server."""
    with_list(client, ("oxycodone",), ("alcohol",))
    html = client.get(PRINT).content.decode()
    sheet = html[html.index('class="sheet"') : html.index('class="site-footer"')]
    fields = re.findall(r"<(?:input|textarea)\b[^>]*>", sheet)
    assert len(fields) == 1 + 2 + 3 + 2 + 1  # the details box, name, birth date, 3 a medicine, 2 a substance, notes
    assert "<form" not in sheet
    for field in fields:
        assert " name=" not in field, field
        if 'type="text"' in field or field.startswith("<textarea"):
            assert 'autocomplete="off"' in field, field  # the browser does not keep it for later either


def test_the_sheet_is_never_cached(client):
    with_list(client, ("oxycodone",))
    response = client.get(PRINT)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("size", [1, 5, 30])
def test_the_sheet_runs_a_fixed_number_of_queries(client, django_assert_num_queries, size):
    with_list(client, *((slug,) for slug in THIRTY[:size]))
    assert client.get(PRINT).status_code == 200
    # As the check page: only the content version, at any size.
    with django_assert_num_queries(1):
        assert client.get(PRINT).status_code == 200


@pytest.mark.parametrize("severity", [Severity.CONTRAINDICATED, Severity.MAJOR, Severity.MODERATE, Severity.MINOR])
def test_every_warning_has_a_short_plain_question(severity):
    question = question_for(finding(severity))
    assert question.endswith("?")
    assert reading_grade(question) <= PATIENT_GRADE_LIMIT


def test_no_question_for_no_interaction_expected():
    assert question_for(finding(Severity.NONE)) == ""


def test_the_sheets_own_words_are_grade_8_or_below(client):
    """The fixed copy of the sheet (no list, so no clinical content): headings, hints, emergency line."""
    html = client.get(PRINT).content.decode()
    sheet = html[html.index('class="sheet"') : html.index('class="sheet-details"')]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", sheet)).strip()
    assert "Date of birth" in text and "Need help now?" in text
    assert reading_grade(text) <= PATIENT_GRADE_LIMIT, text
