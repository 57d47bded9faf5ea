"""Content packs: the shipped clinical content in `fixtures/content/*.json` (format: docs/content-packs.md).

`validate_packs()` checks every pack against the fixtures and each other without a database;
`load_packs()` writes them, idempotently. Both read the same parsed form, so what passes the check
is what loads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from core import content_version, readability
from core.readability import MAX_GRADE
from core.slugs import is_content_slug
from interactions.models import (
    URGENT_SEVERITIES,
    DrugClass,
    Evidence,
    GroupKind,
    Interaction,
    ListRule,
    Medication,
    MedicationKind,
    MedicationName,
    Reference,
    Regimen,
    Route,
    Severity,
    StandingMessage,
    Status,
    StopSide,
    normalize_name,
)

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
PACKS_DIR = FIXTURES / "content"
# Who signs shipped content: a clinic's reviewer re-signs it in admin, and the record then names them.
SHIPPED_SIGNER = "MedWise content"
SHIPPED_REVIEWED_ON = date(2026, 12, 1)
# Shipped content was approved before it reached this clinic's database, so by no account here.
SHIPPED_REVIEWER = "the MedWise clinical content team"
PLACEHOLDER_SAMPLES = {"first": "sertraline", "second": "tramadol", "medicines": "sertraline, tramadol and alcohol"}


def fill_placeholders(text: str, **names: str) -> str:
    """Put the medicines' names where a group rule's text says {first}, {second} or {medicines}."""
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def reading_grade(text: str) -> float:
    """The grade of a rule's text with sample medicine names in its placeholders."""
    return readability.reading_grade(fill_placeholders(text, **PLACEHOLDER_SAMPLES))


def _sentences(lines: Iterable[str]) -> str:
    return " ".join(line if line.rstrip().endswith((".", "!", "?")) else f"{line}." for line in lines)


def rule_patient_text(rule: dict) -> str:
    return " ".join(
        [
            rule.get("title", "") + ".",
            rule.get("summary", ""),
            rule.get("action", ""),
            _sentences(rule.get("urgent_signs", [])),
            rule.get("timing", ""),
        ]
    )


@dataclass
class Packs:
    files: list[Path]
    references: dict[str, dict] = field(default_factory=dict)
    groups: dict[str, dict] = field(default_factory=dict)
    existing_groups: list[dict] = field(default_factory=list)
    medications: dict[str, dict] = field(default_factory=dict)
    rules: dict[str, dict] = field(default_factory=dict)
    list_rules: dict[str, dict] = field(default_factory=dict)
    standing_messages: dict[str, dict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    origin: dict[tuple[str, str], str] = field(default_factory=dict)


def read_packs(directory: Path = PACKS_DIR) -> Packs:
    # CONTENT_PACKS narrows the files (e.g. "00-*.json") while packs are being written.
    packs = Packs(files=sorted(directory.glob(os.environ.get("CONTENT_PACKS", "*.json"))))
    for path in packs.files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            packs.problems.append(f"{path.name}: not valid JSON ({exc})")
            continue
        if not isinstance(data, dict):
            packs.problems.append(f"{path.name}: the top level must be an object")
            continue
        for section, key in (
            ("references", "key"),
            ("groups", "slug"),
            ("medications", "slug"),
            ("rules", "slug"),
            ("list_rules", "slug"),
            ("standing_messages", "slug"),
        ):
            target = getattr(packs, section)
            for item in data.get(section, []):
                ident = item.get(key) if isinstance(item, dict) else None
                if not ident:
                    packs.problems.append(f"{path.name}: an item in {section} has no {key}")
                    continue
                if ident in target and section != "medications":
                    packs.problems.append(
                        f"{path.name}: {section} '{ident}' is also in {packs.origin[(section, ident)]}"
                    )
                if section == "medications" and ident in target:
                    target[ident] = _merge_medication(target[ident], item)
                else:
                    target[ident] = item
                packs.origin[(section, ident)] = path.name
        packs.existing_groups.extend(data.get("existing_groups", []))
    return packs


def _merge_medication(first: dict, second: dict) -> dict:
    merged = {**first, **{k: v for k, v in second.items() if v not in (None, "", [])}}
    for key in ("groups", "brands", "names", "misspellings"):
        merged[key] = list(dict.fromkeys([*first.get(key, []), *second.get(key, [])]))
    return merged


# --- validation ----------------------------------------------------------------------------------


@dataclass
class _Known:
    medications: set[str]
    groups: set[str]
    regimens: set[str]
    references: set[str]
    fixture_rule_pairs: dict[str, str]  # pair identity -> rule slug, from interactions.json


def _fixture_objects(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _known_from_fixtures() -> _Known:
    catalog = _fixture_objects("catalog.json")
    rules = _fixture_objects("interactions.json")
    known = _Known(set(), set(), set(), set(), {})
    for obj in catalog + rules:
        fields, model = obj["fields"], obj["model"]
        if model == "interactions.medication":
            known.medications.add(fields["slug"])
        elif model == "interactions.drugclass":
            known.groups.add(fields["slug"])
        elif model == "interactions.regimen":
            known.regimens.add(fields["slug"])
        elif model == "interactions.reference":
            known.references.add(fields["key"])
        elif model == "interactions.interaction":
            known.fixture_rule_pairs[_fixture_pair(fields)] = fields["slug"]
    return known


def _fixture_pair(fields: dict) -> str:
    def side(s: str) -> str:
        if fields.get(f"regimen_{s}"):
            return f"regimen:{fields[f'regimen_{s}'][0]}"
        if fields.get(f"medication_{s}"):
            return fields[f"medication_{s}"][0]
        return f"group:{fields[f'drug_class_{s}'][0]}"

    return "|".join(sorted([side("a"), side("b")]))


def _pack_pair(rule: dict) -> str:
    return "|".join(sorted([str(rule.get("a")), str(rule.get("b"))]))


def validate_packs(packs: Packs | None = None, *, grades: bool = True) -> list[str]:
    """Every problem in the packs, in words; empty when they are ready to load.

    `grades=False` skips the reading-grade checks (slow; the content tests measure every published text)."""
    packs = packs or read_packs()
    problems = list(packs.problems)
    known = _known_from_fixtures()
    groups = known.groups | set(packs.groups)
    medications = known.medications | set(packs.medications)
    regimens = known.regimens | {r["slug"] for m in packs.medications.values() for r in m.get("regimens", [])}
    references = known.references | set(packs.references)

    def where(section: str, ident: str) -> str:
        return f"{packs.origin.get((section, ident), '?')}: {section} '{ident}'"

    def check_refs(section: str, ident: str, keys: list) -> None:
        for key in keys:
            if key not in references:
                problems.append(f"{where(section, ident)}: unknown reference '{key}'")

    def check_side(section: str, ident: str, value) -> None:
        if not isinstance(value, str) or not value:
            problems.append(f"{where(section, ident)}: a side must be a slug, 'group:...' or 'regimen:...'")
        elif value.startswith("group:"):
            if value[6:] not in groups:
                problems.append(f"{where(section, ident)}: unknown group '{value[6:]}'")
        elif value.startswith("regimen:"):
            if value[8:] not in regimens:
                problems.append(f"{where(section, ident)}: unknown regimen '{value[8:]}'")
        elif value not in medications:
            problems.append(f"{where(section, ident)}: unknown medication '{value}'")

    def check_grade(section: str, ident: str, text: str) -> None:
        if not grades:
            return
        grade = reading_grade(text)
        if grade > MAX_GRADE:
            problems.append(f"{where(section, ident)}: reads at grade {grade:.1f} (at most {MAX_GRADE:g})")

    for key, ref in packs.references.items():
        if not is_content_slug(key):
            problems.append(f"{where('references', key)}: the key must be a slug")
        if not ref.get("citation"):
            problems.append(f"{where('references', key)}: no citation")

    for slug, group in packs.groups.items():
        if not is_content_slug(slug):
            problems.append(f"{where('groups', slug)}: the slug must be lowercase words and hyphens")
        if group.get("kind", GroupKind.CLASS) not in GroupKind.values:
            problems.append(f"{where('groups', slug)}: kind must be one of {GroupKind.values}")
        for other in [group.get("parent") or None, *group.get("also_in", [])]:
            if other and other not in groups:
                problems.append(f"{where('groups', slug)}: unknown group '{other}'")
        if group.get("duplicate_severity") and group["duplicate_severity"] not in Severity.values:
            problems.append(f"{where('groups', slug)}: bad duplicate_severity")
        for text in (group.get("description", ""), group.get("duplicate_warning", "")):
            if text:
                check_grade("groups", slug, text)
    for entry in packs.existing_groups:
        for other in [entry.get("slug"), *entry.get("also_in", [])]:
            if other not in groups:
                problems.append(f"existing_groups: unknown group '{other}'")

    shown_names: dict[str, str] = {}
    for slug, med in packs.medications.items():
        if not is_content_slug(slug):
            problems.append(f"{where('medications', slug)}: the slug must be lowercase words and hyphens")
        if slug not in known.medications and not med.get("name"):
            problems.append(f"{where('medications', slug)}: a new medication needs a name")
        if med.get("kind") and med["kind"] not in MedicationKind.values:
            problems.append(f"{where('medications', slug)}: kind must be one of {MedicationKind.values}")
        for group in med.get("groups", []):
            if group not in groups:
                problems.append(f"{where('medications', slug)}: unknown group '{group}'")
        for ingredient in med.get("ingredients", []):
            if ingredient not in medications:
                problems.append(f"{where('medications', slug)}: unknown ingredient '{ingredient}'")
            if ingredient == slug:
                problems.append(f"{where('medications', slug)}: a medication cannot contain itself")
        if med.get("description"):
            check_grade("medications", slug, med["description"])
        for name in [*med.get("brands", []), *med.get("names", []), *med.get("misspellings", [])]:
            normalized = normalize_name(name)
            if normalized in shown_names and shown_names[normalized] != slug:
                problems.append(
                    f"{where('medications', slug)}: the name '{name}' is also on '{shown_names[normalized]}'"
                )
            shown_names[normalized] = slug
        for regimen in med.get("regimens", []):
            for key in ("slug", "name", "patient_label", "min_mg", "max_mg"):
                if key not in regimen:
                    problems.append(f"{where('medications', slug)}: regimen needs '{key}'")
            for group in regimen.get("groups", []):
                if group not in groups:
                    problems.append(f"{where('medications', slug)}: regimen group '{group}' unknown")
            if regimen.get("route", Route.ORAL) not in Route.values:
                problems.append(f"{where('medications', slug)}: regimen route must be one of {Route.values}")
        coverage = med.get("coverage")
        if coverage is not None:
            if not coverage.get("label"):
                problems.append(f"{where('medications', slug)}: coverage needs the label that was checked")
            check_refs("medications", slug, coverage.get("references", []))

    pairs: dict[str, str] = {}
    for slug, rule in packs.rules.items():
        if not is_content_slug(slug):
            problems.append(f"{where('rules', slug)}: the slug must be lowercase words and hyphens")
        check_side("rules", slug, rule.get("a"))
        check_side("rules", slug, rule.get("b"))
        if rule.get("a") == rule.get("b") and not str(rule.get("a", "")).startswith("group:"):
            problems.append(f"{where('rules', slug)}: a medicine cannot interact with itself")
        _check_common(problems, where("rules", slug), rule)
        check_refs("rules", slug, rule.get("references", []))
        if rule.get("washout_stop", "") not in ("", *StopSide.values):
            problems.append(f"{where('rules', slug)}: washout_stop must be a, b, either or empty")
        days = rule.get("washout_days")
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365):
            problems.append(f"{where('rules', slug)}: washout_days must be a whole number of days")
        check_grade("rules", slug, rule_patient_text(rule))
        pair = _pack_pair(rule)
        if pair in pairs:
            problems.append(f"{where('rules', slug)}: the same pair as rule '{pairs[pair]}'")
        pairs[pair] = slug
        fixture_slug = known.fixture_rule_pairs.get(pair)
        if fixture_slug and fixture_slug != slug and fixture_slug not in packs.rules:
            problems.append(
                f"{where('rules', slug)}: the same pair as '{fixture_slug}' in interactions.json "
                "(use that slug to replace it)"
            )

    for slug, rule in packs.list_rules.items():
        for key in ("group", "with_group"):
            if rule.get(key) and rule[key] not in groups:
                problems.append(f"{where('list_rules', slug)}: unknown group '{rule[key]}'")
        if not rule.get("group"):
            problems.append(f"{where('list_rules', slug)}: needs a group")
        count = rule.get("min_count", 3)
        if not isinstance(count, int) or count < 1:
            problems.append(f"{where('list_rules', slug)}: min_count must be a whole number of at least 1")
        _check_common(problems, where("list_rules", slug), rule)
        check_refs("list_rules", slug, rule.get("references", []))
        check_grade("list_rules", slug, rule_patient_text(rule))

    for slug, message in packs.standing_messages.items():
        check_side("standing_messages", slug, message.get("target"))
        for key in ("title", "text"):
            if not message.get(key):
                problems.append(f"{where('standing_messages', slug)}: needs a {key}")
        if not message.get("references"):
            problems.append(f"{where('standing_messages', slug)}: needs at least one reference")
        check_refs("standing_messages", slug, message.get("references", []))
        check_grade(
            "standing_messages",
            slug,
            f"{message.get('title', '')}. {message.get('text', '')} {message.get('more', '')}",
        )
    return problems


def _check_common(problems: list[str], where: str, rule: dict) -> None:
    severity = rule.get("severity")
    if severity not in Severity.values:
        problems.append(f"{where}: severity must be one of {Severity.values}")
    for key in ("title", "summary", "action"):
        if not str(rule.get(key, "")).strip():
            problems.append(f"{where}: needs a {key}")
    if not isinstance(rule.get("urgent_signs", []), list):
        problems.append(f"{where}: urgent_signs must be a list of lines")
    elif severity in URGENT_SEVERITIES and not rule.get("urgent_signs"):
        problems.append(f"{where}: contraindicated and major rules need urgent signs")
    if not rule.get("references"):
        problems.append(f"{where}: needs at least one reference")
    if rule.get("evidence", Evidence.ESTABLISHED) not in Evidence.values:
        problems.append(f"{where}: evidence must be one of {Evidence.values}")


# --- loading -------------------------------------------------------------------------------------


def load_initial_content(*, dictionary: bool = True, verbosity: int = 0) -> None:
    """All shipped content, in order: the first catalog and rules, the packs, the dictionary, articles.

    The one recipe `make setup` and the tests share. Without the dictionary (about 107,000 names) it
    takes a few seconds: most tests need only the curated catalog.
    """
    from django.core.management import call_command

    call_command("loaddata", str(FIXTURES / "catalog.json"), verbosity=verbosity)
    call_command("loaddata", str(FIXTURES / "interactions.json"), verbosity=verbosity)
    call_command("load_content", verbosity=verbosity)
    if dictionary:
        call_command("import_catalog", verbosity=verbosity)
    call_command("load_articles", verbosity=verbosity)


class PackError(ValueError):
    pass


def load_packs(packs: Packs | None = None) -> dict[str, int]:
    """Write every pack to the database (update or create), after validating them all.

    Loading shipped content is not an edit: no history rows (as with `loaddata`), and one content
    version change at the end rather than one per row."""
    packs = packs or read_packs()
    problems = validate_packs(packs, grades=False)
    if problems:
        raise PackError("\n".join(problems))
    with transaction.atomic(), content_version.one_bump(), override_settings(SIMPLE_HISTORY_ENABLED=False):
        return _write_packs(packs)


def _write_packs(packs: Packs) -> dict[str, int]:
    refs = {key: _load_reference(key, ref) for key, ref in packs.references.items()}
    refs.update({r.key: r for r in Reference.objects.exclude(key__in=refs)})
    groups = _load_groups(packs)
    medications = {m.slug: m for m in Medication.objects.filter(slug__in=_mentioned_medications(packs))}
    for slug, data in packs.medications.items():
        medications[slug] = _load_medication(slug, data, medications.get(slug), groups)
    for slug, data in packs.medications.items():
        _load_medication_links(medications[slug], data, medications, groups, refs)
    # Groups are additive (a pack adds to a medicine's profile, never removes): one insert for all.
    membership = Medication.classes.through
    membership.objects.bulk_create(
        [
            membership(medication_id=medications[slug].pk, drugclass_id=groups[group].pk)
            for slug, data in packs.medications.items()
            for group in dict.fromkeys(data.get("groups", []))
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    regimens = {r.slug: r for r in Regimen.objects.all()}
    _load_rules(packs.rules, medications, groups, regimens, refs)
    for slug, data in packs.list_rules.items():
        _load_list_rule(slug, data, groups, refs)
    for slug, data in packs.standing_messages.items():
        _load_standing_message(slug, data, medications, groups, regimens, refs)
    flag_misspellings()
    return {
        "references": len(packs.references),
        "groups": len(packs.groups),
        "medications": len(packs.medications),
        "rules": len(packs.rules),
        "list_rules": len(packs.list_rules),
        "standing_messages": len(packs.standing_messages),
    }


def flag_misspellings() -> int:
    """Curated names that are only a slip of the keyboard from the medicine's own name or a brand
    ("zolft", "sertaline") are kept for matching but marked, so they are never shown as names."""
    from rapidfuzz.distance import OSA

    by_medication: dict[int, list[MedicationName]] = {}
    for name in MedicationName.objects.filter(medication__curated=True).select_related("medication"):
        by_medication.setdefault(name.medication_id, []).append(name)
    flagged = []
    for names in by_medication.values():
        medication = names[0].medication
        real = {normalize_name(medication.name)} | {n.normalized for n in names if n.is_brand}
        for name in names:
            if name.is_brand or name.is_misspelling or name.normalized in real or len(name.normalized) < 5:
                continue
            if any(OSA.distance(name.normalized, other) <= 2 for other in real):
                name.is_misspelling = True
                flagged.append(name)
    MedicationName.objects.bulk_update(flagged, ["is_misspelling"])
    return len(flagged)


def _mentioned_medications(packs: Packs) -> set[str]:
    slugs = set(packs.medications)
    for data in packs.medications.values():
        slugs.update(data.get("ingredients", []))
    for rule in packs.rules.values():
        slugs.update(v for v in (rule["a"], rule["b"]) if ":" not in v)
    slugs.update(m["target"] for m in packs.standing_messages.values() if ":" not in m["target"])
    return slugs


def _load_reference(key: str, data: dict) -> Reference:
    reference, _ = Reference.objects.update_or_create(
        key=key,
        defaults={
            "citation": data["citation"],
            "url": data.get("url", ""),
            "doi": data.get("doi", ""),
            "pubmed_id": data.get("pubmed_id", ""),
        },
    )
    return reference


def _load_groups(packs: Packs) -> dict[str, DrugClass]:
    existing = {g.slug: g for g in DrugClass.objects.all()}
    for slug, data in packs.groups.items():
        group = existing.get(slug) or DrugClass(slug=slug)
        group.name = data.get("name") or group.name or slug
        group.kind = data.get("kind", group.kind or GroupKind.CLASS)
        for key in ("description", "duplicate_severity", "duplicate_warning"):
            if key in data:
                setattr(group, key, data[key])
        group.save()
        existing[slug] = group
    for slug, data in packs.groups.items():
        group = existing[slug]
        parent = existing[data["parent"]] if data.get("parent") else None
        if group.parent_id != (parent.id if parent else None):
            group.parent = parent
            group.save(update_fields=["parent"])
        if data.get("also_in"):
            group.also_in.add(*(existing[s] for s in data["also_in"]))
    for entry in packs.existing_groups:
        existing[entry["slug"]].also_in.add(*(existing[s] for s in entry.get("also_in", [])))
    return existing


def _load_medication(slug: str, data: dict, current: Medication | None, groups) -> Medication:
    medication = current or Medication(slug=slug, curated=True)
    if current is None or data.get("name"):
        medication.name = data.get("name") or medication.name
    for key in ("kind", "description"):
        if data.get(key):
            setattr(medication, key, data[key])
    if not medication.name:
        raise PackError(f"medication '{slug}' has no name")
    medication.curated = True
    coverage = data.get("coverage")
    if coverage is not None:
        medication.interactions_reviewed = True
        if medication.coverage_signed_by_id is None:
            medication.coverage_signer = SHIPPED_SIGNER
            medication.coverage_signed_on = SHIPPED_REVIEWED_ON
        medication.coverage_label = coverage["label"][:300]
        medication.coverage_label_revised = str(coverage.get("revised", ""))[:40]
        medication.coverage_setid = str(coverage.get("setid", ""))[:60]
        medication.coverage_notes = coverage.get("notes", "")
    medication.save()
    return medication


def _load_medication_links(medication: Medication, data: dict, medications, groups, refs) -> None:
    if data.get("ingredients"):
        medication.ingredients.set([medications[s] for s in data["ingredients"]])
    if data.get("coverage"):
        medication.coverage_references.set([refs[k] for k in data["coverage"].get("references", [])])
    names = [(medication.name, False, False)]
    names += [(n, True, False) for n in data.get("brands", [])]
    names += [(n, False, False) for n in data.get("names", [])]
    names += [(n, False, True) for n in data.get("misspellings", [])]
    wanted = {normalize_name(name): (name, is_brand, is_misspelling) for name, is_brand, is_misspelling in names}
    # A name that now belongs to this medicine leaves any other medicine that had it (a name means one
    # medicine; the dictionary import never gives it out again).
    MedicationName.objects.filter(normalized__in=list(wanted)).exclude(medication=medication).delete()
    existing = {n.normalized: n for n in medication.names.all()}
    new, changed = [], []
    for normalized, (name, is_brand, is_misspelling) in wanted.items():
        current = existing.get(normalized)
        if current is None:
            new.append(
                MedicationName(
                    medication=medication,
                    name=name,
                    normalized=normalized,
                    is_brand=is_brand,
                    is_misspelling=is_misspelling,
                )
            )
        elif (current.is_brand, current.is_misspelling) != (is_brand, is_misspelling) and name != medication.name:
            current.is_brand, current.is_misspelling = is_brand, is_misspelling
            changed.append(current)
    MedicationName.objects.bulk_create(new)  # bulk_create skips pre_save: `normalized` is set above
    MedicationName.objects.bulk_update(changed, ["is_brand", "is_misspelling"])
    existing.update({n.normalized: n for n in MedicationName.objects.filter(medication=medication)} if new else {})
    for position, data_regimen in enumerate(data.get("regimens", [])):
        regimen, _ = Regimen.objects.update_or_create(
            slug=data_regimen["slug"],
            defaults={
                "medication": medication,
                "name": data_regimen["name"],
                "patient_label": data_regimen["patient_label"],
                "min_mg": data_regimen["min_mg"],
                "max_mg": data_regimen["max_mg"],
                "route": data_regimen.get("route", Route.ORAL),
                "frequency": data_regimen.get("frequency", ""),
                "position": data_regimen.get("position", 10 + position),
            },
        )
        regimen.classes.set([groups[s] for s in data_regimen.get("groups", [])])
        brands = [existing[normalize_name(b)] for b in data_regimen.get("brands", []) if normalize_name(b) in existing]
        if brands:
            regimen.implied_by_brands.add(*brands)


def _side(value: str, medications, groups, regimens) -> dict:
    if value.startswith("group:"):
        return {"medication": None, "drug_class": groups[value[6:]], "regimen": None}
    if value.startswith("regimen:"):
        regimen = regimens[value[8:]]
        return {"medication": regimen.medication, "drug_class": None, "regimen": regimen}
    return {"medication": medications[value], "drug_class": None, "regimen": None}


# Shipped content is published as reviewed on SHIPPED_REVIEWED_ON, due again a year later.
PUBLISHED = {
    "status": Status.PUBLISHED,
    "reviewed_on": SHIPPED_REVIEWED_ON,
    "reviewed_by_name": SHIPPED_REVIEWER,
    "next_review_due": SHIPPED_REVIEWED_ON + timedelta(days=365),
}


RULE_FIELDS = [
    *Interaction.SIDE_FIELDS,
    "pair_key",
    *Interaction.TEXT_FIELDS,
    *Interaction.REVIEW_FIELDS,
    "updated_at",
]


def _field_values(rule: Interaction) -> tuple:
    return tuple(
        getattr(rule, f"{name}_id" if name[:-2] in ("medication", "drug_class", "regimen") else name)
        for name in RULE_FIELDS
        if name != "updated_at"
    )


def _load_rules(rules: dict[str, dict], medications, groups, regimens, refs) -> None:
    """Every pack rule in a few queries: bulk writes (which move the content version themselves),
    with the derived pair key set here because bulk writes send no pre_save signal."""
    existing = {r.slug: r for r in Interaction.objects.filter(slug__in=list(rules))}
    now = timezone.now()
    new, changed = [], []
    for slug, data in rules.items():
        rule = existing.get(slug) or Interaction(slug=slug)
        a = _side(data["a"], medications, groups, regimens)
        b = _side(data["b"], medications, groups, regimens)
        values = {
            "medication_a": a["medication"],
            "drug_class_a": a["drug_class"],
            "regimen_a": a["regimen"],
            "medication_b": b["medication"],
            "drug_class_b": b["drug_class"],
            "regimen_b": b["regimen"],
            "severity": data["severity"],
            "title": data["title"],
            "summary": data["summary"],
            "action": data["action"],
            "urgent_signs": "\n".join(data.get("urgent_signs", [])),
            "washout_days": data.get("washout_days"),
            "washout_stop": data.get("washout_stop", ""),
            "timing": data.get("timing", ""),
            "mechanism": data.get("mechanism", ""),
            "evidence": data.get("evidence", Evidence.ESTABLISHED),
            "updated_at": now,
            **PUBLISHED,
        }
        before = _field_values(rule) if rule.pk else None
        for name, value in values.items():
            setattr(rule, name, value)
        rule.pair_key = rule.compute_pair_key()
        if rule.pk is None:
            new.append(rule)
        elif _field_values(rule) != before:  # a second load of the same packs writes nothing
            changed.append(rule)
    Interaction.objects.bulk_update(changed, RULE_FIELDS, batch_size=50)
    Interaction.objects.bulk_create(new, batch_size=200)
    ids = dict(Interaction.objects.filter(slug__in=list(rules)).values_list("slug", "id"))
    through = Interaction.references.through
    through.objects.filter(interaction_id__in=ids.values()).delete()
    through.objects.bulk_create(
        [
            through(interaction_id=ids[slug], reference_id=refs[key].pk)
            for slug, data in rules.items()
            for key in dict.fromkeys(data["references"])
        ],
        batch_size=500,
    )


def _load_list_rule(slug: str, data: dict, groups, refs) -> None:
    rule, _ = ListRule.objects.update_or_create(
        slug=slug,
        defaults={
            "drug_class": groups[data["group"]],
            "with_class": groups[data["with_group"]] if data.get("with_group") else None,
            "min_count": data.get("min_count", 3),
            "severity": data["severity"],
            "title": data["title"],
            "summary": data["summary"],
            "action": data["action"],
            "urgent_signs": "\n".join(data.get("urgent_signs", [])),
            "mechanism": data.get("mechanism", ""),
            "evidence": data.get("evidence", Evidence.ESTABLISHED),
            **PUBLISHED,
        },
    )
    rule.references.set([refs[k] for k in data["references"]])


def _load_standing_message(slug: str, data: dict, medications, groups, regimens, refs) -> None:
    target = _side(data["target"], medications, groups, regimens)
    message, _ = StandingMessage.objects.update_or_create(
        slug=slug,
        defaults={
            **target,
            "title": data["title"],
            "text": data["text"],
            "more": data.get("more", ""),
            "position": data.get("position", 100),
            **PUBLISHED,
        },
    )
    message.references.set([refs[k] for k in data["references"]])
