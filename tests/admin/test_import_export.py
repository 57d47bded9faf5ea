"""export_content and import_content: a round trip changes nothing; a dry run shows what would change."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from interactions.models import Interaction, Medication, MedicationName, Status
from staff import importexport

pytestmark = pytest.mark.django_db


def run(command: str, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> tuple[int, ...]:
    return (
        Medication.objects.count(),
        MedicationName.objects.count(),
        Interaction.objects.count(),
        Interaction.history.count(),
        Medication.history.count(),
    )


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_export_then_import_changes_nothing(tmp_path, fmt):
    target = tmp_path / ("content.json" if fmt == "json" else "content")
    run("export_content", "--curated", "--output", str(target))
    before = counts()
    out, _ = run("import_content", str(target))
    assert "Nothing to change." in out
    assert "0 to create, 0 to update" in out
    assert counts() == before
    again = tmp_path / ("again.json" if fmt == "json" else "again")
    run("export_content", "--curated", "--output", str(again))
    if fmt == "json":
        assert again.read_text() == target.read_text()
    else:
        for kind in importexport.KINDS:
            assert (again / f"{kind}.csv").read_text() == (target / f"{kind}.csv").read_text()


def test_the_export_holds_every_kind(tmp_path):
    path = tmp_path / "content.json"
    run("export_content", "--curated", "--output", str(path))
    data = json.loads(path.read_text())
    assert {row["slug"] for row in data["medications"]} >= {"naltrexone", "sertraline"}
    assert {"medication": "naltrexone", "name": "Vivitrol", "is_brand": True} in data["names"]
    rule = next(r for r in data["interactions"] if r["slug"] == "naltrexone-tablet-opioids")
    assert rule["medication_a"] == "naltrexone"
    assert rule["regimen_a"] == "naltrexone-tablet"
    assert rule["drug_class_b"] == "opioid-agonist"
    assert rule["references"] == ["fda-naltrexone-label", "fda-vivitrol-label"]


def to_draft(slug: str) -> None:
    """An import may change only drafts (published content changes through the review workflow)."""
    Interaction.objects.filter(slug=slug).update(status=Status.DRAFT, reviewed_by_name="")


def edited_export(tmp_path) -> tuple:
    to_draft("naltrexone-tablet-opioids")
    path = tmp_path / "content.json"
    run("export_content", "--curated", "--output", str(path))
    data = json.loads(path.read_text())
    rule = next(r for r in data["interactions"] if r["slug"] == "naltrexone-tablet-opioids")
    rule["title"] = "Naltrexone tablets and opioid medicines"
    data["medications"].append(
        {"slug": "newamine", "name": "Newamine", "kind": "otc", "classes": [], "ingredients": [], "curated": True}
    )
    data["names"].append({"medication": "newamine", "name": "Newamine Plus", "is_brand": True})
    path.write_text(json.dumps(data))
    return path, rule


def test_the_dry_run_shows_what_would_change_and_writes_nothing(tmp_path):
    path, _rule = edited_export(tmp_path)
    before = counts()
    out, _ = run("import_content", str(path), "--dry-run")
    assert (
        "would update interaction 'naltrexone-tablet-opioids': title: 'Naltrexone tablets and opioids' → "
        "'Naltrexone tablets and opioid medicines'" in out
    )
    assert "would create medication 'newamine'" in out
    assert "would create name 'newamine: Newamine Plus'" in out
    assert "medications: 1 to create, 0 to update" in out
    assert "Dry run: nothing was written." in out
    assert counts() == before
    assert Interaction.objects.get(slug="naltrexone-tablet-opioids").title == "Naltrexone tablets and opioids"


def test_an_import_applies_the_changes_and_records_them(tmp_path):
    path, _rule = edited_export(tmp_path)
    out, _ = run("import_content", str(path))
    assert "Imported 3 change(s)." in out
    rule = Interaction.objects.get(slug="naltrexone-tablet-opioids")
    assert rule.title == "Naltrexone tablets and opioid medicines"
    assert rule.status == Status.DRAFT
    assert rule.history.first().history_change_reason == "Imported from content.json"
    assert MedicationName.objects.get(normalized="newamine plus").medication.slug == "newamine"
    out, _ = run("import_content", str(path))
    assert "Nothing to change." in out


CSV_HEADER = (
    "slug,title,medication_a,drug_class_a,medication_b,drug_class_b,severity,summary,action,evidence,references\n"
)


def test_row_errors_name_the_file_and_row_and_nothing_is_written(tmp_path):
    path = tmp_path / "interactions.csv"
    path.write_text(
        CSV_HEADER
        + "fine-rule,Fine,acamprosate,,ibuprofen,,minor,Mild.,Ask.,probable,fda-naltrexone-label\n"
        + "bad-severity,Bad,acamprosate,,aspirin,,severe,Mild.,Ask.,probable,\n"
        + "no-such-med,Bad,nothingamine,,aspirin,,minor,Mild.,Ask.,probable,\n"
        + "both-sides,Bad,acamprosate,opioid-agonist,aspirin,,minor,Mild.,Ask.,probable,\n"
        + "same-pair,Again,ibuprofen,,acamprosate,,minor,Mild.,Ask.,probable,\n"
        + ",No slug,acamprosate,,aspirin,,minor,Mild.,Ask.,probable,\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="row error"):
        call_command("import_content", str(path), "--dry-run", stdout=io.StringIO(), stderr=err)
    errors = err.getvalue()
    assert "interactions.csv row 3: severity 'severe' is not one of contraindicated, major" in errors
    assert "interactions.csv row 4: medication_a: no medication 'nothingamine'" in errors
    assert "interactions.csv row 5: side A: give medication_a or drug_class_a, not both" in errors
    assert "interactions.csv row 6: the same pair as rule 'fine-rule' in row 2" in errors
    assert "interactions.csv row 7: slug is required" in errors
    with pytest.raises(CommandError):
        call_command("import_content", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Interaction.objects.filter(slug="fine-rule").exists()


def test_a_pair_that_already_has_a_rule_is_refused(tmp_path):
    path = tmp_path / "interactions.csv"
    path.write_text(
        "slug,title,medication_a,regimen_a,drug_class_b,severity,summary,action,evidence\n"
        "copy,Copy,naltrexone,naltrexone-tablet,opioid-agonist,minor,Mild.,Ask.,probable\n"
    )
    plan = importexport.plan_import(*importexport.read_path(path))
    assert [str(e) for e in plan.errors] == [
        "interactions.csv row 2: a rule for this pair already exists: 'naltrexone-tablet-opioids'"
    ]


def test_an_import_cannot_publish_or_change_published_rules(tmp_path):
    refusal = (
        "an import cannot publish or change a published rule: import it as a draft (status 'draft') and "
        "publish it through the review workflow"
    )
    new_rule = {
        "slug": "published-by-import",
        "title": "Published by import",
        "medication_a": "acamprosate",
        "medication_b": "ibuprofen",
        "severity": "minor",
        "summary": "Mild.",
        "action": "Ask.",
        "evidence": "probable",
        "references": ["fda-naltrexone-label"],
        "status": "published",
    }
    published = Interaction.objects.published().first()
    rows = [
        new_rule,
        {"slug": published.slug, "title": "Changed by import"},
        {"slug": Interaction.objects.published().exclude(pk=published.pk).first().slug, "status": "draft"},
    ]
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"interactions": rows}))
    plan = importexport.plan_import(*importexport.read_path(path))
    assert [str(e) for e in plan.errors] == [f"rules.json interactions row {n}: {refusal}" for n in (1, 2, 3)]
    # The same new rule as a draft goes in, for the workflow to take from there.
    path.write_text(json.dumps({"interactions": [{**new_rule, "status": "draft"}]}))
    run("import_content", str(path))
    assert Interaction.objects.get(slug="published-by-import").status == Status.DRAFT


def test_a_new_rule_can_use_a_medication_from_the_same_file(tmp_path):
    data = {
        "medications": [{"slug": "newamine", "name": "Newamine"}],
        "interactions": [
            {
                "slug": "newamine-ibuprofen",
                "title": "Newamine and ibuprofen",
                "medication_a": "newamine",
                "medication_b": "ibuprofen",
                "severity": "minor",
                "summary": "Mild.",
                "action": "Ask.",
                "evidence": "theoretical",
            }
        ],
    }
    path = tmp_path / "new.json"
    path.write_text(json.dumps(data))
    run("import_content", str(path))
    rule = Interaction.objects.get(slug="newamine-ibuprofen")
    assert rule.medication_a.slug == "newamine"
    assert rule.status == Status.DRAFT


def test_spreadsheet_formulas_are_escaped_on_export_and_restored_on_import(tmp_path):
    medication = Medication.objects.get(slug="naltrexone")
    medication.description = '=HYPERLINK("http://example.com")'
    medication.save()
    run("export_content", "--curated", "--only", "medications", "--output", str(tmp_path))
    text = (tmp_path / "medications.csv").read_text()
    assert "'=HYPERLINK" in text
    out, _ = run("import_content", str(tmp_path / "medications.csv"))
    assert "Nothing to change." in out


def test_a_partial_csv_updates_only_its_columns(tmp_path):
    path = tmp_path / "medications.csv"
    path.write_text("slug,description\nnaltrexone,A new plain description.\n")
    out, _ = run("import_content", str(path), "--dry-run")
    assert "would update medication 'naltrexone': description:" in out
    run("import_content", str(path))
    medication = Medication.objects.get(slug="naltrexone")
    assert medication.description == "A new plain description."
    assert medication.curated
    rules = tmp_path / "interactions.csv"
    to_draft("naltrexone-tablet-opioids")
    rules.write_text("slug,title\nnaltrexone-tablet-opioids,Naltrexone tablets and opioid medicines\n")
    run("import_content", str(rules))
    rule = Interaction.objects.get(slug="naltrexone-tablet-opioids")
    assert rule.title == "Naltrexone tablets and opioid medicines"
    assert (rule.medication_a.slug, rule.regimen_a.slug, rule.drug_class_b.slug) == (
        "naltrexone",
        "naltrexone-tablet",
        "opioid-agonist",
    )
    assert rule.references.count() == 2


def test_unknown_columns_and_files_are_refused(tmp_path):
    path = tmp_path / "medications.csv"
    path.write_text("slug,colour\nnaltrexone,blue\n")
    with pytest.raises(CommandError, match="unknown column"):
        run("import_content", str(path))
    other = tmp_path / "stuff.csv"
    other.write_text("slug\nx\n")
    with pytest.raises(CommandError, match="name the file after what it holds"):
        run("import_content", str(other))
