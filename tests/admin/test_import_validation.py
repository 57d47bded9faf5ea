"""import_content refuses bad files and bad rows with a clear message, never a traceback, and writes
nothing unless every row is good; the app re-imports its own export; CSV export escapes every
spreadsheet formula prefix OWASP lists."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from interactions.models import Interaction, Medication
from staff import importexport

pytestmark = pytest.mark.django_db

RULE = {
    "slug": "newamine-ibuprofen",
    "title": "Newamine and ibuprofen",
    "medication_a": "acamprosate",
    "medication_b": "ibuprofen",
    "severity": "minor",
    "summary": "Mild.",
    "action": "Ask.",
    "evidence": "theoretical",
}


def import_errors(path) -> str:
    """Run the real command; return what it said on stderr and in its CommandError."""
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_content", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue() + str(raised.value)


def test_deeply_nested_json_is_refused_with_a_message(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"medications": [' + "[" * 100_000 + "]" * 100_000 + "]}")
    assert "nested too deeply" in import_errors(path)


def test_a_huge_integer_is_refused_with_a_message(tmp_path):
    path = tmp_path / "huge.json"
    path.write_text('{"interactions": [{"slug": "x", "washout_days": ' + "9" * 5000 + "}]}")
    assert "number too large" in import_errors(path)


def test_a_large_whole_number_is_a_row_error_not_a_database_crash(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"interactions": [{**RULE, "washout_days": 10**30}]}))
    assert "big.json interactions row 1: washout_days:" in import_errors(path)
    assert not Interaction.objects.filter(slug=RULE["slug"]).exists()


@pytest.mark.parametrize(
    ("value", "shown"), [(3.9, "3.9"), (3.0, "3.0"), (True, "true"), ("3", "'3'"), ("٣", "'٣'"), (-1, "-1")]
)
def test_a_whole_number_column_takes_only_a_whole_number(tmp_path, value, shown):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"interactions": [{**RULE, "washout_days": value}]}, ensure_ascii=False))
    errors = import_errors(path)
    assert "rules.json interactions row 1: washout_days:" in errors
    assert shown in errors or "must not be negative" in errors
    assert not Interaction.objects.filter(slug=RULE["slug"]).exists()


def test_true_and_3_9_never_become_numbers_in_csv_either(tmp_path):
    path = tmp_path / "interactions.csv"
    columns = [*RULE, "washout_days"]
    rows = [
        [*RULE.values(), "3.9"],
        [*(v if k != "slug" else "second" for k, v in RULE.items()), "true"],
        [*(v if k != "slug" else "third" for k, v in RULE.items()), "٣"],
    ]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([columns, *rows])
    errors = import_errors(path)
    assert "interactions.csv row 2: washout_days: '3.9' is not a whole number" in errors
    assert "interactions.csv row 3: washout_days: 'true' is not a whole number" in errors
    assert "interactions.csv row 4: washout_days: '٣' is not a whole number" in errors


def test_an_over_long_csv_cell_is_refused_with_a_message(tmp_path):
    path = tmp_path / "medications.csv"
    path.write_text("slug,description\nnaltrexone," + "x" * 200_000 + "\n")
    errors = import_errors(path)
    assert "medications.csv" in errors and "longer than" in errors


def test_an_over_long_text_is_a_row_error(tmp_path):
    path = tmp_path / "medications.csv"
    limit = importexport.TEXT_MAX_CHARS
    path.write_text(f"slug,description\nnaltrexone,{'x' * (limit + 1)}\nacamprosate,fine\n")
    errors = import_errors(path)
    assert f"medications.csv row 2: description: longer than {limit:,} characters" in errors
    assert Medication.objects.get(slug="acamprosate").description != "fine"  # nothing half-written


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_a_file_that_is_not_utf8_is_refused_with_a_message(tmp_path, suffix):
    path = tmp_path / f"medications.{suffix}"
    path.write_bytes("slug,description\nnaltrexone,Café au lait\n".encode("latin-1"))
    errors = import_errors(path)
    assert f"medications.{suffix} is not UTF-8 text" in errors
    assert "Traceback" not in errors


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path):
    good = {"slug": "newamine", "name": "Newamine"}
    bad = [
        {"slug": "bad-one", "name": "Bad", "curated": 1},
        {"slug": "bad-two", "name": "Bad", "kind": "bogus"},
        {"slug": "bad-three", "name": 7},
    ]
    path = tmp_path / "content.json"
    path.write_text(json.dumps({"medications": [good, *bad]}))
    errors = import_errors(path)
    for number in (2, 3, 4):
        assert f"content.json medications row {number}:" in errors
    assert "3 row error(s); nothing was imported." in errors
    assert not Medication.objects.filter(slug="newamine").exists()


def test_the_apps_own_csv_export_with_carriage_returns_re_imports(tmp_path):
    medication = Medication.objects.get(slug="naltrexone")
    medication.description = "First line\rsecond line"  # a bare CR, and no newline to force quoting
    medication.save()
    call_command("export_content", "--curated", "--output", str(tmp_path), stderr=io.StringIO())
    out = io.StringIO()
    call_command("import_content", str(tmp_path), stdout=out, stderr=io.StringIO())
    assert "Nothing to change." in out.getvalue()
    medication.refresh_from_db()
    assert medication.description == "First line\rsecond line"


FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r", " ", "＝", "＋", "－", "＠", ";", "|", "'"]


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_csv_export_escapes_every_formula_prefix_and_import_restores_it(tmp_path, prefix):
    text = f'{prefix}HYPERLINK("http://evil.example")'
    medication = Medication.objects.get(slug="naltrexone")
    medication.description = text
    medication.save()
    rows = importexport.export_medications(curated_only=True)
    exported = importexport.to_csv("medications", rows)
    cell = next(r for r in csv.DictReader(io.StringIO(exported, newline="")) if r["slug"] == "naltrexone")
    assert cell["description"] == "'" + text
    read, errors = importexport.read_csv(exported, "medications", "medications.csv")
    assert not errors
    assert next(r for r in read if r.values["slug"] == "naltrexone").values["description"] == text
