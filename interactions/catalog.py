"""Import the medicine-name dictionary shipped inside the drug-named-entity-recognition package.

The package (MIT licence) ships a bz2 pickle with about 20,000 medicines and 107,000 names.
It is read from the installed package: nothing is downloaded.
"""

from __future__ import annotations

import bz2
import importlib.resources
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.text import slugify

from core import content_version
from interactions.models import Medication, MedicationKind, MedicationName, normalize_name

DICTIONARY_PACKAGE = "drug_named_entity_recognition"
DICTIONARY_FILE = "drug_ner_dictionary.pkl.bz2"
BATCH_SIZE = 2000
# The dictionary carries generic names in many languages (sertralina, sertralinum); these
# endings mark them so they are not taken for brands.
_GENERIC_ENDINGS = ("um", "ina", "ine", "ate", "ide", "ol", "one", "ona", "an", "in", "il")


@dataclass(frozen=True)
class ImportReport:
    medications_created: int
    medications_updated: int
    names_created: int
    total_medications: int
    total_names: int


def load_dictionary() -> dict:
    resource = importlib.resources.files(DICTIONARY_PACKAGE) / DICTIONARY_FILE
    return pickle.loads(bz2.decompress(resource.read_bytes()))  # noqa: S301 - trusted package data


def medication_slug(canonical: str) -> str:
    return slugify(canonical.replace("/", " "))[:200]


# Wiki markup and escaped HTML that came into the dictionary with some names ("<ref name=...>",
# "{{cite web", "''with [[..."): never a name a person would type or should read.
_JUNK = re.compile(r"&lt;|&gt;|&quot;|&amp;|\{\{|\}\}|\[\[|\]\]|''|<|>|\bref name\b|\bcite (web|book|journal)\b", re.I)


def is_junk_name(text: str) -> bool:
    return bool(_JUNK.search(text)) or len(text) > 150


def display_name(variant: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in variant.split(" "))


def guess_is_brand(variant: str, canonical: str, variant_data: dict) -> bool:
    known = variant_data.get(variant)
    if known is not None and "is_brand" in known:
        return bool(known["is_brand"])
    if variant == canonical or " " in variant or any(ch.isdigit() for ch in variant):
        return False
    if canonical.split(" ")[0][:5] in variant:
        return False
    return not variant.endswith(_GENERIC_ENDINGS)


def import_catalog(*, progress: Callable[[str], None] = lambda message: None) -> ImportReport:
    data = load_dictionary()
    variant_to_canonical: dict[str, list[str]] = data["drug_variant_to_canonical"]
    canonical_to_data: dict[str, dict] = data["drug_canonical_to_data"]
    variant_data: dict[str, dict] = data["drug_variant_to_variant_data"]
    progress(f"Read {len(canonical_to_data):,} medicines and {len(variant_to_canonical):,} names.")

    with transaction.atomic():
        created, updated = _import_medications(canonical_to_data, progress)
        slug_to_id = dict(Medication.objects.values_list("slug", "id"))
        names_created = _import_names(variant_to_canonical, variant_data, slug_to_id, progress)

    content_version.bump()  # bulk inserts send no signals
    return ImportReport(
        medications_created=created,
        medications_updated=updated,
        names_created=names_created,
        total_medications=Medication.objects.count(),
        total_names=MedicationName.objects.count(),
    )


def _import_medications(canonical_to_data: dict[str, dict], progress) -> tuple[int, int]:
    existing = {m.slug: m for m in Medication.objects.only("id", "slug", "medlineplus_id", "drugbank_id")}
    to_create: dict[str, Medication] = {}
    to_update: list[Medication] = []
    seen: set[str] = set()
    for canonical, info in canonical_to_data.items():
        slug = medication_slug(canonical)
        if not slug or slug in seen:
            continue
        seen.add(slug)
        medlineplus_id = (info.get("medline_plus_id") or "")[:20]
        drugbank_id = (info.get("drugbank_id") or "")[:20]
        current = existing.get(slug)
        if current is None:
            to_create[slug] = Medication(
                slug=slug,
                name=(info.get("name") or display_name(canonical))[:200],
                kind=MedicationKind.UNCLASSIFIED,
                medlineplus_id=medlineplus_id,
                drugbank_id=drugbank_id,
            )
        elif (not current.medlineplus_id and medlineplus_id) or (not current.drugbank_id and drugbank_id):
            current.medlineplus_id = current.medlineplus_id or medlineplus_id
            current.drugbank_id = current.drugbank_id or drugbank_id
            to_update.append(current)
    new = list(to_create.values())
    for start in range(0, len(new), BATCH_SIZE):
        Medication.objects.bulk_create(new[start : start + BATCH_SIZE])
        progress(f"Medicines: {min(start + BATCH_SIZE, len(new)):,} of {len(new):,} new")
    Medication.objects.bulk_update(to_update, ["medlineplus_id", "drugbank_id"], batch_size=BATCH_SIZE)
    return len(new), len(to_update)


def _import_names(variant_to_canonical, variant_data, slug_to_id: dict[str, int], progress) -> int:
    # A name means one medicine. Names already given out (the curated catalog and content packs load
    # first) stay where they are, so "lithium carbonate" or "Hycodan" never lead to a second,
    # unreviewed dictionary entry; among dictionary entries the first one listed keeps the name.
    taken = dict(MedicationName.objects.values_list("normalized", "medication_id"))
    new: list[MedicationName] = []
    for variant, canonicals in variant_to_canonical.items():
        for canonical in canonicals:
            medication_id = slug_to_id.get(medication_slug(canonical))
            normalized = normalize_name(variant)[:200]
            if medication_id is None or not normalized or normalized in taken:
                continue
            if is_junk_name(variant):
                continue
            taken[normalized] = medication_id
            new.append(
                MedicationName(
                    medication_id=medication_id,
                    name=display_name(variant)[:200],
                    normalized=normalized,
                    is_brand=guess_is_brand(variant, canonical, variant_data),
                )
            )
    for start in range(0, len(new), BATCH_SIZE):
        # bulk_create skips pre_save, so `normalized` is set above.
        MedicationName.objects.bulk_create(new[start : start + BATCH_SIZE])
        if (start // BATCH_SIZE) % 10 == 0 or start + BATCH_SIZE >= len(new):
            progress(f"Names: {min(start + BATCH_SIZE, len(new)):,} of {len(new):,} new")
    return len(new)
