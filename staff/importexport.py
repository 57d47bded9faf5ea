"""Export and import medications, their names, and interaction rules as JSON or CSV.

Rows refer to each other by slug (medications, classes, regimens, rules) and by reference key, never
by database id, so a file moves between databases. `plan_import()` checks every row and works out
what would change without writing anything; `apply_import()` writes a clean plan in one
transaction. Exporting and importing the same data changes nothing.

Import adds and updates; it never deletes. Columns left out of a file keep their current values.
Authors and reviewers are not exported: people differ between databases. An import never publishes:
a new or changed rule must arrive as a draft and go through the review workflow (a second person
approves it); published rules that the file leaves unchanged stay as they are.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from interactions.models import (
    DrugClass,
    Evidence,
    Interaction,
    Medication,
    MedicationKind,
    MedicationName,
    Reference,
    Regimen,
    Severity,
    Status,
    StopSide,
    normalize_name,
)

KINDS = ("medications", "names", "interactions")
LIST_SEPARATOR = ";"
# Spreadsheet apps run cells that start with these as formulas (OWASP's CSV injection list, plus the
# leading space, full-width forms and separators some apps also take); such text is exported with a
# leading "'", which import removes again. "'" itself is escaped so that round trip is exact.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", " ", "＝", "＋", "－", "＠", ";", "|", "'")
# The longest text one cell may hold: far above any real summary, far below what hurts the database.
TEXT_MAX_CHARS = 20_000
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only: int() would also take "٣" or " 3_0"


class FieldType:
    TEXT = "text"
    BOOL = "bool"
    INT = "int"
    DATE = "date"
    LIST = "list"
    REF = "ref"  # a slug, or empty


def _field_type(model: type, name: str) -> str:
    field = model._meta.get_field(name)
    if isinstance(field, models.DateField):
        return FieldType.DATE
    if isinstance(field, models.IntegerField):
        return FieldType.INT
    return FieldType.TEXT


FIELDS: dict[str, dict[str, str]] = {
    "medications": {
        "slug": FieldType.TEXT,
        "name": FieldType.TEXT,
        "kind": FieldType.TEXT,
        "classes": FieldType.LIST,
        "ingredients": FieldType.LIST,
        "medlineplus_id": FieldType.TEXT,
        "drugbank_id": FieldType.TEXT,
        "description": FieldType.TEXT,
        "curated": FieldType.BOOL,
        "interactions_reviewed": FieldType.BOOL,
    },
    "names": {
        "medication": FieldType.TEXT,
        "name": FieldType.TEXT,
        "is_brand": FieldType.BOOL,
    },
    # The rule's own field lists (Interaction.SIDE_FIELDS, TEXT_FIELDS, REVIEW_FIELDS), in export order.
    "interactions": {
        "slug": FieldType.TEXT,
        "title": FieldType.TEXT,
        **{f"{part}_{side}": FieldType.REF for side in ("a", "b") for part in ("medication", "regimen", "drug_class")},
        **{name: _field_type(Interaction, name) for name in Interaction.TEXT_FIELDS if name != "title"},
        "references": FieldType.LIST,
        **{name: _field_type(Interaction, name) for name in Interaction.REVIEW_FIELDS},
    },
}
KEY_FIELDS = {"medications": ("slug",), "names": ("medication", "name"), "interactions": ("slug",)}
REQUIRED_ON_CREATE = {
    "medications": ("slug", "name"),
    "names": ("medication", "name"),
    "interactions": ("slug", "title", "severity", "summary", "action", "evidence"),
}
CHOICES = {
    ("medications", "kind"): MedicationKind,
    ("interactions", "severity"): Severity,
    ("interactions", "evidence"): Evidence,
    ("interactions", "status"): Status,
    ("interactions", "washout_stop"): StopSide,
}
OPTIONAL_CHOICES = {("interactions", "washout_stop")}
SIDES = ("a", "b")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a row problem)."""


# --- export ----------------------------------------------------------------------------------------


def export_medications(*, curated_only: bool = False) -> list[dict[str, Any]]:
    medications = Medication.objects.order_by("slug").prefetch_related("classes", "ingredients")
    if curated_only:
        medications = medications.filter(curated=True)
    return [_medication_row(m) for m in medications]


def _medication_row(medication: Medication) -> dict[str, Any]:
    return {
        "slug": medication.slug,
        "name": medication.name,
        "kind": medication.kind,
        "classes": sorted(c.slug for c in medication.classes.all()),
        "ingredients": sorted(i.slug for i in medication.ingredients.all()),
        "medlineplus_id": medication.medlineplus_id,
        "drugbank_id": medication.drugbank_id,
        "description": medication.description,
        "curated": medication.curated,
        "interactions_reviewed": medication.interactions_reviewed,
    }


def export_names(*, curated_only: bool = False) -> list[dict[str, Any]]:
    names = MedicationName.objects.select_related("medication").order_by("medication__slug", "normalized", "id")
    if curated_only:
        names = names.filter(medication__curated=True)
    return [_name_row(n) for n in names]


def _name_row(name: MedicationName) -> dict[str, Any]:
    return {"medication": name.medication.slug, "name": name.name, "is_brand": name.is_brand}


def export_interactions() -> list[dict[str, Any]]:
    rules = (
        Interaction.objects.order_by("slug")
        .select_related("medication_a", "medication_b", "drug_class_a", "drug_class_b", "regimen_a", "regimen_b")
        .prefetch_related("references")
    )
    return [_interaction_row(r) for r in rules]


def _slug(obj) -> str | None:
    return obj.slug if obj is not None else None


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _interaction_row(rule: Interaction) -> dict[str, Any]:
    row: dict[str, Any] = {"slug": rule.slug, "title": rule.title}
    for side in SIDES:
        row[f"medication_{side}"] = _slug(getattr(rule, f"medication_{side}"))
        row[f"regimen_{side}"] = _slug(getattr(rule, f"regimen_{side}"))
        row[f"drug_class_{side}"] = _slug(getattr(rule, f"drug_class_{side}"))
    row.update({name: getattr(rule, name) for name in Interaction.TEXT_FIELDS if name != "title"})
    row["references"] = sorted(r.key for r in rule.references.all())
    row["status"] = rule.status
    row.update({name: _iso(getattr(rule, name)) for name in ("reviewed_on", "next_review_due")})
    return row


def export_all(*, kinds: Iterable[str] = KINDS, curated_only: bool = False) -> dict[str, list[dict[str, Any]]]:
    exporters = {
        "medications": lambda: export_medications(curated_only=curated_only),
        "names": lambda: export_names(curated_only=curated_only),
        "interactions": export_interactions,
    }
    return {kind: exporters[kind]() for kind in KINDS if kind in set(kinds)}


def to_json(data: dict[str, list[dict[str, Any]]]) -> str:
    return json.dumps({"format": "medwise-content", "version": 1, **data}, ensure_ascii=False, indent=1) + "\n"


def to_csv(kind: str, rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    # RFC 4180 line ends: the writer then quotes any cell holding a CR or LF. With "\n" alone it left
    # a bare CR unquoted, and the file did not read back.
    writer = csv.DictWriter(out, fieldnames=list(FIELDS[kind]), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _csv_cell(FIELDS[kind][name], value) for name, value in row.items()})
    return out.getvalue()


def _csv_cell(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == FieldType.LIST:
        return LIST_SEPARATOR.join(value)
    if kind == FieldType.BOOL:
        return "true" if value else "false"
    text = str(value)
    if kind == FieldType.TEXT and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


# --- reading files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    kind: str
    number: int  # the line in a CSV file (header is line 1), or the position in a JSON list (from 1)
    source: str
    values: dict[str, Any]


@dataclass
class RowError:
    source: str
    number: int
    message: str

    def __str__(self) -> str:
        return f"{self.source} row {self.number}: {self.message}"


def parse_json(text: str, source: str) -> Any:
    """JSON from a file we did not write: every way it can be broken is an ImportFileError, never a traceback."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{source} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ImportFileError(f"{source}: the JSON is nested too deeply to be content.") from None
    except ValueError:  # an integer of thousands of digits
        raise ImportFileError(f"{source}: a number too large to be content.") from None


def read_json(text: str, source: str = "JSON", kinds: Iterable[str] = KINDS) -> tuple[list[SourceRow], list[RowError]]:
    data = parse_json(text, source)
    if not isinstance(data, dict) or not any(kind in data for kind in KINDS):
        raise ImportFileError(f"{source}: expected an object with 'medications', 'names' or 'interactions' lists.")
    rows, errors = [], []
    for kind in (k for k in KINDS if k in set(kinds)):
        items = data.get(kind, [])
        if not isinstance(items, list):
            raise ImportFileError(f"{source}: '{kind}' must be a list.")
        for number, item in enumerate(items, start=1):
            label = f"{source} {kind}"
            if not isinstance(item, dict):
                errors.append(RowError(label, number, "expected an object"))
                continue
            _take_row(rows, errors, SourceRow(kind, number, label, item), from_csv=False)
    return rows, errors


def read_csv(text: str, kind: str, source: str) -> tuple[list[SourceRow], list[RowError]]:
    if kind not in KINDS:
        raise ImportFileError(f"{source}: name the file after what it holds: {', '.join(KINDS)} (.csv).")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in FIELDS[kind]]
    if unknown:
        raise ImportFileError(f"{source}: unknown column(s) {', '.join(unknown)}.")
    missing = [name for name in KEY_FIELDS[kind] if name not in header]
    if missing:
        raise ImportFileError(f"{source}: the {', '.join(missing)} column is required.")
    rows, errors = [], []
    # Numbered like a spreadsheet: the header is row 1 (a cell may span several lines of the file).
    number = 1
    try:
        for number, item in enumerate(reader, start=2):  # after the loop, number names a broken row
            if None in item:
                errors.append(RowError(source, number, "more cells than columns"))
                continue
            _take_row(rows, errors, SourceRow(kind, number, source, item), from_csv=True)
    except csv.Error as exc:  # a cell over the csv module's limit (131,072 characters), a stray quote
        detail = "a cell is far longer than any text" if "field limit" in str(exc) else str(exc)
        raise ImportFileError(
            f"{source} row {number + 1}: {detail} (cells are at most {TEXT_MAX_CHARS:,} characters)."
        ) from None
    return rows, errors


def _take_row(rows: list[SourceRow], errors: list[RowError], raw: SourceRow, *, from_csv: bool) -> None:
    """Type-check one row's cells: a good row joins `rows`, each problem joins `errors`."""
    values, problems = _coerce(raw.kind, raw.values, from_csv=from_csv)
    errors.extend(RowError(raw.source, raw.number, p) for p in problems)
    if not problems:
        rows.append(SourceRow(raw.kind, raw.number, raw.source, values))


def read_path(path: Path, kinds: Iterable[str] = KINDS) -> tuple[list[SourceRow], list[RowError]]:
    """A JSON file, one CSV file named after its kind, or a directory of such CSV files."""
    wanted = set(kinds)
    if path.is_dir():
        rows, errors = [], []
        found = False
        for kind in KINDS:
            csv_path = path / f"{kind}.csv"
            if kind in wanted and csv_path.exists():
                found = True
                more_rows, more_errors = read_csv(_read_text(csv_path), kind, csv_path.name)
                rows += more_rows
                errors += more_errors
        if not found:
            raise ImportFileError(f"{path}: no medications.csv, names.csv or interactions.csv here.")
        return rows, errors
    if not path.exists():
        raise ImportFileError(f"{path}: no such file.")
    if path.suffix.lower() == ".json":
        return read_json(_read_text(path), path.name, wanted)
    if path.suffix.lower() == ".csv":
        if path.stem in KINDS and path.stem not in wanted:
            return [], []
        return read_csv(_read_text(path), path.stem, path.name)
    raise ImportFileError(f"{path}: expected a .json or .csv file, or a directory of .csv files.")


def _read_text(path: Path) -> str:
    return decode_text(path.read_bytes(), path.name)


def decode_text(data: bytes, source: str) -> str:
    # Decoding bytes keeps line breaks inside quoted CSV cells exactly as written; utf-8-sig drops Excel's BOM.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{source} is not UTF-8 text (byte {exc.start + 1} is not): save it as UTF-8 "
            "(in a spreadsheet app, 'CSV UTF-8')."
        ) from None


def _coerce(kind: str, item: dict[str, Any], *, from_csv: bool) -> tuple[dict[str, Any], list[str]]:
    """Turn one row's cells into Python values of the right type; unknown columns are an error."""
    values, problems = {}, []
    for name, raw in item.items():
        field_type = FIELDS[kind].get(name)
        if field_type is None:
            problems.append(f"unknown column '{name}'")
            continue
        try:
            values[name] = _parse(field_type, raw, from_csv=from_csv)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    for name in KEY_FIELDS[kind]:
        if not values.get(name):
            problems.append(f"{name} is required")
    for (choice_kind, name), choices in CHOICES.items():
        if choice_kind != kind or name not in values:
            continue
        value = values[name]
        if value in ("", None) and (choice_kind, name) in OPTIONAL_CHOICES:
            values[name] = ""
            continue
        if value not in choices.values:
            problems.append(f"{name} '{value}' is not one of {', '.join(choices.values)}")
    return values, problems


def _parse(field_type: str, raw: Any, *, from_csv: bool) -> Any:
    if from_csv:
        raw = raw if raw is not None else ""
        if field_type == FieldType.TEXT:
            raw = raw[1:] if raw.startswith("'") else raw  # the formula escape
    if isinstance(raw, str) and len(raw) > TEXT_MAX_CHARS:
        raise ValueError(f"longer than {TEXT_MAX_CHARS:,} characters")
    if from_csv:
        if field_type == FieldType.TEXT:
            return raw
        if field_type in (FieldType.REF, FieldType.INT, FieldType.DATE) and raw.strip() == "":
            return None
        if field_type == FieldType.LIST:
            return sorted({part.strip() for part in raw.split(LIST_SEPARATOR) if part.strip()})
        if field_type == FieldType.BOOL:
            lowered = raw.strip().lower()
            if lowered in {"true", "1", "yes"}:
                return True
            if lowered in {"false", "0", "no", ""}:
                return False
            raise ValueError(f"'{raw}' is not true or false")
    if field_type == FieldType.TEXT:
        if raw is None:
            return ""
        if not isinstance(raw, str):
            raise ValueError("expected text")
        return raw
    if field_type == FieldType.REF:
        if raw in (None, ""):
            return None
        if not isinstance(raw, str):
            raise ValueError("expected a slug")
        return raw.strip()
    if field_type == FieldType.LIST:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise ValueError("expected a list of slugs")
        return sorted({x.strip() for x in raw if x.strip()})
    if field_type == FieldType.BOOL:
        if not isinstance(raw, bool):
            raise ValueError("expected true or false")
        return raw
    if field_type == FieldType.INT:
        return _whole_number(raw, text_allowed=from_csv)
    if field_type == FieldType.DATE:
        if raw in (None, ""):
            return None
        try:
            return datetime.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(f"'{raw}' is not a date like 2026-01-31") from None
    raise AssertionError(field_type)


def _whole_number(raw: Any, *, text_allowed: bool) -> int | None:
    """A whole number, written as one: 3.9 is not 3, true is not 1 (and in JSON, "3" is text)."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 0:
            raise ValueError("must not be negative")
        return raw
    if text_allowed and isinstance(raw, str) and WHOLE_NUMBER.fullmatch(raw.strip()):
        return int(raw.strip())
    if isinstance(raw, str):
        shown = f"'{raw}'"
    else:
        shown = json.dumps(raw) if isinstance(raw, bool | float) else type(raw).__name__
    raise ValueError(f"{shown} is not a whole number")


# --- planning ----------------------------------------------------------------------------------------


class Action:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass
class RowChange:
    kind: str
    key: str
    action: str
    source: str
    number: int
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if self.action == Action.CREATE:
            return f"create {self.kind[:-1]} '{self.key}'"
        details = "; ".join(f"{name}: {_short(old)} → {_short(new)}" for name, (old, new) in self.changes.items())
        return f"update {self.kind[:-1]} '{self.key}': {details}"


def _short(value: Any, limit: int = 60) -> str:
    text = LIST_SEPARATOR.join(value) if isinstance(value, list) else "" if value is None else str(value)
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


@dataclass
class ImportPlan:
    rows: list[RowChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def count(self, kind: str, action: str) -> int:
        return sum(1 for r in self.rows if r.kind == kind and r.action == action)

    @property
    def changed(self) -> list[RowChange]:
        return [r for r in self.rows if r.action != Action.UNCHANGED]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Catalog:
    """What the rows refer to, loaded once: a fixed number of queries whatever the file size."""

    def __init__(self, rows: list[SourceRow]) -> None:
        slugs = _medication_slugs(rows)
        self.medications = {
            m.slug: m for m in Medication.objects.filter(slug__in=slugs).prefetch_related("classes", "ingredients")
        }
        self.classes = {c.slug: c for c in DrugClass.objects.all()}
        self.regimens = {r.slug: r for r in Regimen.objects.all()}
        self.references = {r.key: r for r in Reference.objects.all()}
        named = {r.values["medication"] for r in rows if r.kind == "names"}
        self.names = {
            (n.medication.slug, n.normalized): n
            for n in MedicationName.objects.filter(medication__slug__in=named).select_related("medication")
        }
        self.rules = {
            r.slug: r
            for r in Interaction.objects.select_related(
                "medication_a", "medication_b", "drug_class_a", "drug_class_b", "regimen_a", "regimen_b"
            ).prefetch_related("references")
        }
        self.pair_keys = {r.pair_key: r.slug for r in self.rules.values()}
        # A partial row keeps the sides a rule has now: those medications come with the rules.
        for rule in self.rules.values():
            for side in SIDES:
                medication = getattr(rule, f"medication_{side}")
                if medication is not None:
                    self.medications.setdefault(medication.slug, medication)


def _medication_slugs(rows: Iterable[SourceRow | RowChange]) -> set[str]:
    """Every medication a row names: its own slug, its ingredients, a name's medication, a rule's sides."""
    slugs: set[str] = set()
    for row in rows:
        values = row.values
        if row.kind == "medications":
            slugs.add(values["slug"])
            slugs.update(values.get("ingredients", []))
        elif row.kind == "names":
            slugs.add(values["medication"])
        else:
            slugs.update(values[f"medication_{side}"] for side in SIDES if values.get(f"medication_{side}"))
    return slugs


def plan_import(rows: list[SourceRow], errors: list[RowError] | None = None) -> ImportPlan:
    """Check every row against the database and each other; nothing is written."""
    plan = ImportPlan(errors=list(errors or []))
    catalog = _Catalog(rows)
    by_kind: dict[str, list[SourceRow]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    new_medications = {r.values["slug"] for r in by_kind["medications"]}
    _plan_medications(plan, by_kind["medications"], catalog, new_medications)
    _plan_names(plan, by_kind["names"], catalog, new_medications)
    _plan_interactions(plan, by_kind["interactions"], catalog, new_medications)
    return plan


def _diff(current: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    if current is None:
        return {}
    return {name: (current[name], value) for name, value in values.items() if current.get(name) != value}


def _first_seen(plan: ImportPlan, row: SourceRow, key: str, seen: dict[str, int], what: str) -> bool:
    if key in seen:
        plan.errors.append(RowError(row.source, row.number, f"repeats {what} from row {seen[key]}"))
        return False
    seen[key] = row.number
    return True


def _field_problems(model, values: dict[str, Any], names: Iterable[str]) -> list[str]:
    """Length, blank and slug checks from the model fields themselves (no queries)."""
    problems = []
    for name in names:
        if name not in values:
            continue
        model_field = model._meta.get_field(name)
        try:
            model_field.clean(values[name], None)
        except ValidationError as error:
            problems.append(f"{name}: {' '.join(error.messages)}")
    return problems


def _plan_medications(plan: ImportPlan, rows: list[SourceRow], catalog: _Catalog, new: set[str]) -> None:
    seen: dict[str, int] = {}
    known = set(catalog.medications) | new
    for row in rows:
        values = row.values
        slug = values["slug"]
        if not _first_seen(plan, row, slug, seen, f"medication '{slug}'"):
            continue
        current = catalog.medications.get(slug)
        problems = _missing_on_create(row, current)
        problems += _field_problems(
            Medication, values, ["slug", "name", "medlineplus_id", "drugbank_id", "description"]
        )
        problems += [f"classes: no drug class '{s}'" for s in values.get("classes", []) if s not in catalog.classes]
        problems += [f"ingredients: no medication '{s}'" for s in values.get("ingredients", []) if s not in known]
        if slug in values.get("ingredients", []):
            problems.append("ingredients: a medication cannot contain itself")
        _add(plan, row, slug, problems, _medication_row(current) if current else None)


def _plan_names(plan: ImportPlan, rows: list[SourceRow], catalog: _Catalog, new: set[str]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        values = row.values
        medication, name = values["medication"], values["name"]
        key = f"{medication}: {name}"
        if not _first_seen(plan, row, f"{medication}|{normalize_name(name)}", seen, f"name '{key}'"):
            continue
        problems = []
        if medication not in catalog.medications and medication not in new:
            problems.append(f"medication: no medication '{medication}'")
        problems += _field_problems(MedicationName, values, ["name"])
        current = catalog.names.get((medication, normalize_name(name)))
        _add(plan, row, key, problems, _name_row(current) if current else None)


def _plan_interactions(plan: ImportPlan, rows: list[SourceRow], catalog: _Catalog, new: set[str]) -> None:
    seen: dict[str, int] = {}
    pairs: dict[str, tuple[str, int]] = {}
    for row in rows:
        slug = row.values["slug"]
        if not _first_seen(plan, row, slug, seen, f"rule '{slug}'"):
            continue
        current = catalog.rules.get(slug)
        current_row = _interaction_row(current) if current else None
        merged = {**(current_row or {}), **row.values}
        problems = _missing_on_create(row, current)
        problems += _field_problems(Interaction, row.values, ["slug", "title", "washout_days"])
        if not problems:
            problems += _interaction_problems(merged, catalog, new)
        changes = current is None or bool(_diff(current_row, row.values))
        # Only rows that change are held to the publishing rules, so older content still round-trips.
        # Nothing reaches patients past the review workflow: a changed row cannot end up published.
        now_published = current is not None and current.status == Status.PUBLISHED
        if not problems and changes and (now_published or merged.get("status", Status.DRAFT) == Status.PUBLISHED):
            problems.append(
                "an import cannot publish or change a published rule: import it as a draft "
                "(status 'draft') and publish it through the review workflow"
            )
        if not problems:
            pair_key = _pair_key(merged, catalog)
            owner = catalog.pair_keys.get(pair_key)
            if owner is not None and owner != slug:
                problems.append(f"a rule for this pair already exists: '{owner}'")
            elif pair_key in pairs:
                problems.append(f"the same pair as rule '{pairs[pair_key][0]}' in row {pairs[pair_key][1]}")
            pairs[pair_key] = (slug, row.number)
        _add(plan, row, slug, problems, current_row)


def _missing_on_create(row: SourceRow, current) -> list[str]:
    if current is not None:
        return []
    return [f"{name} is required for a new entry" for name in REQUIRED_ON_CREATE[row.kind] if not row.values.get(name)]


def _interaction_problems(values: dict[str, Any], catalog: _Catalog, new: set[str]) -> list[str]:
    problems = []
    for side in SIDES:
        medication, drug_class, regimen = (
            values.get(f"medication_{side}"),
            values.get(f"drug_class_{side}"),
            values.get(f"regimen_{side}"),
        )
        if bool(medication) == bool(drug_class):
            problems.append(f"side {side.upper()}: give medication_{side} or drug_class_{side}, not both")
            continue
        if medication and medication not in catalog.medications and medication not in new:
            problems.append(f"medication_{side}: no medication '{medication}'")
        if drug_class and drug_class not in catalog.classes:
            problems.append(f"drug_class_{side}: no drug class '{drug_class}'")
        if regimen:
            found = catalog.regimens.get(regimen)
            if found is None:
                problems.append(f"regimen_{side}: no dose form '{regimen}'")
            elif medication and found.medication_id != getattr(catalog.medications.get(medication), "pk", None):
                problems.append(f"regimen_{side}: '{regimen}' is a dose form of another medication")
            elif not medication:
                problems.append(f"regimen_{side}: a dose form needs medication_{side}")
    if not problems:
        same_medication = values.get("medication_a") and values.get("medication_a") == values.get("medication_b")
        if same_medication and not (values.get("regimen_a") or values.get("regimen_b")):
            problems.append("a medication cannot interact with itself")
        # A group with itself is allowed: "two medicines that raise serotonin" is one rule.
    problems += [
        f"references: no reference '{key}'" for key in values.get("references", []) if key not in catalog.references
    ]
    return problems


def _pair_key(values: dict[str, Any], catalog: _Catalog) -> str:
    """The rule's pair identity as the model computes it; a medication new in this file stands in by slug."""

    def ref(table: dict, slug: str | None) -> int | str | None:
        if not slug:
            return None
        found = table.get(slug)
        return found.pk if found is not None else f"new:{slug}"

    rule = Interaction()
    for side in SIDES:
        setattr(rule, f"medication_{side}_id", ref(catalog.medications, values.get(f"medication_{side}")))
        setattr(rule, f"drug_class_{side}_id", ref(catalog.classes, values.get(f"drug_class_{side}")))
        setattr(rule, f"regimen_{side}_id", ref(catalog.regimens, values.get(f"regimen_{side}")))
    return rule.compute_pair_key()


def _add(plan: ImportPlan, row: SourceRow, key: str, problems: list[str], current: dict[str, Any] | None) -> None:
    if problems:
        plan.errors.extend(RowError(row.source, row.number, p) for p in problems)
        return
    if current is None:
        action, changes = Action.CREATE, {}
    else:
        changes = _diff(current, row.values)
        action = Action.UPDATE if changes else Action.UNCHANGED
    plan.rows.append(RowChange(row.kind, key, action, row.source, row.number, changes, row.values))


# --- applying ----------------------------------------------------------------------------------------

SCALAR_FIELDS = {
    "medications": ["name", "kind", "medlineplus_id", "drugbank_id", "description", "curated", "interactions_reviewed"],
    "names": ["is_brand"],
    "interactions": [*Interaction.TEXT_FIELDS, *Interaction.REVIEW_FIELDS],
}


@transaction.atomic
def apply_import(plan: ImportPlan, *, reason: str = "Imported") -> dict[str, int]:
    """Write a checked plan. Refuses a plan with errors: a partial import helps nobody."""
    if not plan.ok:
        raise ValueError("This import has row errors; fix them and try again.")
    changed = plan.changed
    medications = {m.slug: m for m in Medication.objects.filter(slug__in=_medication_slugs(changed))}
    for row in (r for r in changed if r.kind == "medications"):
        medication = medications.get(row.key) or Medication(slug=row.key)
        _set_scalars(medication, "medications", row.values)
        _save(medication, reason)
        medications[medication.slug] = medication
    classes = {c.slug: c for c in DrugClass.objects.all()}
    for row in (r for r in changed if r.kind == "medications"):
        medication = medications[row.key]
        if "classes" in row.values:
            medication.classes.set([classes[s] for s in row.values["classes"]])
        if "ingredients" in row.values:
            medication.ingredients.set([medications[s] for s in row.values["ingredients"]])
    for row in (r for r in changed if r.kind == "names"):
        medication = medications[row.values["medication"]]
        name = MedicationName.objects.filter(
            medication=medication, normalized=normalize_name(row.values["name"])
        ).first() or MedicationName(medication=medication)
        name.name = row.values["name"]
        _set_scalars(name, "names", row.values)
        _save(name, reason)
    regimens = {r.slug: r for r in Regimen.objects.all()}
    references = {r.key: r for r in Reference.objects.all()}
    for row in (r for r in changed if r.kind == "interactions"):
        rule = Interaction.objects.filter(slug=row.key).first() or Interaction(slug=row.key)
        _set_scalars(rule, "interactions", row.values)
        for side in SIDES:
            for kind, table in (("medication", medications), ("drug_class", classes), ("regimen", regimens)):
                name = f"{kind}_{side}"
                if name in row.values:  # columns left out keep their current values
                    setattr(rule, name, table.get(row.values[name] or ""))
        _save(rule, reason)
        if "references" in row.values:
            rule.references.set([references[k] for k in row.values["references"]])
    return {f"{kind} {action}": plan.count(kind, action) for kind in KINDS for action in (Action.CREATE, Action.UPDATE)}


def _set_scalars(obj, kind: str, values: dict[str, Any]) -> None:
    for name in SCALAR_FIELDS[kind]:
        if name in values:
            value = values[name]
            if name in ("reviewed_on", "next_review_due") and value is not None:
                value = datetime.date.fromisoformat(value)
            setattr(obj, name, value)


def _save(obj, reason: str) -> None:
    obj._change_reason = reason
    obj.save()
