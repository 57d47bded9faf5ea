"""Search reads what is on the bottle: numbers without units, salts, forms, release letters, slashes,
"apap", strength pairs, brand plus strength. Each row: what a person types, the medicine, the dose form."""

import pytest

from interactions.search import best_match

pytestmark = pytest.mark.django_db

LABEL_INPUTS = [
    ("naltrexone 50", "naltrexone", "naltrexone-tablet"),
    ("naltrexone 50 mg", "naltrexone", "naltrexone-tablet"),
    ("naltrexone 50mg tablet", "naltrexone", "naltrexone-tablet"),
    ("naltrexone hcl 50 mg", "naltrexone", "naltrexone-tablet"),
    ("naltrexone 4.5", "naltrexone", "naltrexone-low-dose"),
    ("naltrexone 4.5 mg", "naltrexone", "naltrexone-low-dose"),
    ("ldn 4.5", "naltrexone", "naltrexone-low-dose"),
    ("LDN", "naltrexone", "naltrexone-low-dose"),
    ("low dose naltrexone 1.5 mg", "naltrexone", "naltrexone-low-dose"),
    ("vivitrol 380", "naltrexone", "naltrexone-injection"),
    ("Vivitrol 380 mg injection", "naltrexone", "naltrexone-injection"),
    ("revia 50", "naltrexone", "naltrexone-tablet"),
    ("naltrexon 50", "naltrexone", "naltrexone-tablet"),
    ("zoloft 50", "sertraline", None),
    ("zoloft 100 mg", "sertraline", None),
    ("sertraline 50 mg tablet", "sertraline", None),
    ("sertraline hcl 50 mg", "sertraline", None),
    ("Sertraline HCl 100mg tabs", "sertraline", None),
    ("Bupropion XL 300 mg", "bupropion", None),
    ("bupropion hcl xl 150", "bupropion", None),
    ("Wellbutrin XL 300", "bupropion", None),
    ("Wellbutrin SR", "bupropion", None),
    ("hydrocodone apap", "hydrocodone-and-acetaminophen", None),
    ("hydrocodone/apap 5/325", "hydrocodone-and-acetaminophen", None),
    ("Hydrocodone-Acetaminophen 10-325", "hydrocodone-and-acetaminophen", None),
    ("Norco 10/325", "hydrocodone-and-acetaminophen", None),
    ("oxycodone/apap 5/325", "oxycodone-and-acetaminophen", None),
    ("Percocet 5/325", "oxycodone-and-acetaminophen", None),
    ("Tylenol #3", "acetaminophen-and-codeine", None),
    ("Tylenol with codeine", "acetaminophen-and-codeine", None),
    ("acetaminophen-codeine 300/30", "acetaminophen-and-codeine", None),
    ("Suboxone 8/2", "buprenorphine-naloxone", None),
    ("buprenorphine/naloxone 8 mg/2 mg film", "buprenorphine-naloxone", None),
    ("methadone 10 mg", "methadone", "methadone-up-to-100-mg"),
    ("methadone hcl 120 mg", "methadone", "methadone-over-100-mg"),
    ("Methadose 40", "methadone", "methadone-up-to-100-mg"),
    ("Contrave", "naltrexone-and-bupropion", None),
    ("Lisinopril 10 mg", "lisinopril", None),
    ("lisinopril 20 mg tab", "lisinopril", None),
    ("Metformin ER 500 mg", "metformin", None),
    ("metformin hcl 1000 mg", "metformin", None),
    ("Atorvastatin calcium 40 mg", "atorvastatin", None),
    ("Lipitor 20", "atorvastatin", None),
    ("Amlodipine besylate 5 mg", "amlodipine", None),
    ("Losartan potassium 50 mg", "losartan", None),
    ("HCTZ 25 mg", "hydrochlorothiazide", None),
    ("Metoprolol succinate ER 50 mg", "metoprolol", None),
    ("Metoprolol tartrate 25", "metoprolol", None),
    ("Omeprazole DR 20 mg capsule", "omeprazole", None),
    ("Levothyroxine sodium 75 mcg", "levothyroxine", None),
    ("Synthroid 100 mcg", "levothyroxine", None),
    ("Gabapentin 300 mg capsule", "gabapentin", None),
    ("Trazodone 50", "trazodone", None),
    ("Escitalopram oxalate 10 mg", "escitalopram", None),
    ("Lexapro 10", "escitalopram", None),
    ("Fluoxetine 20 mg cap", "fluoxetine", None),
    ("Cymbalta 60", "duloxetine", None),
    ("Duloxetine DR 60 mg", "duloxetine", None),
    ("Quetiapine fumarate 25 mg", "quetiapine", None),
    ("Seroquel XR 300", "quetiapine", None),
    ("Lithium carbonate 300 mg", "lithium", None),
    ("Adderall XR 20 mg", "amphetamine", None),
    ("Alprazolam 0.5", "alprazolam", None),
    ("Xanax XR 1 mg", "alprazolam", None),
    ("Zolpidem tartrate 10 mg", "zolpidem", None),
    ("Ambien CR", "zolpidem", None),
    ("ibuprofen 800", "ibuprofen", None),
    ("Advil 200 mg", "ibuprofen", None),
    ("Tylenol extra strength 500 mg", "acetaminophen", None),
    ("NyQuil", "acetaminophen-dextromethorphan-and-doxylamine-liquid", None),
    ("DayQuil", "acetaminophen-dextromethorphan-and-phenylephrine", None),
    ("Robitussin DM", "guaifenesin-and-dextromethorphan", None),
    ("Mucinex DM", "guaifenesin-and-dextromethorphan", None),
    ("Tylenol PM", "acetaminophen-and-diphenhydramine", None),
    ("Benadryl 25 mg", "diphenhydramine", None),
    ("Sudafed PE", "phenylephrine", None),
    ("Claritin-D", "loratadine-and-pseudoephedrine", None),
    ("Eliquis 5 mg", "apixaban", None),
    ("Xarelto 20", "rivaroxaban", None),
    ("Plavix 75", "clopidogrel", None),
    ("Tramadol 50 mg", "tramadol", None),
    ("naloxone 4 mg nasal spray", "naloxone", None),
    ("Cipro 500", "ciprofloxacin", None),
    ("Bactrim DS", "sulfamethoxazole-and-trimethoprim", None),
    ("Diflucan 150", "fluconazole", None),
    ("Zofran 4 mg ODT", "ondansetron", None),
    ("melatonin 3 mg", "melatonin", None),
    ("5-HTP", "5-hydroxytryptophan", None),
    ("beer", "alcohol", None),
    ("marijuana", "cannabis", None),
]


@pytest.mark.parametrize(("typed", "slug", "regimen"), LABEL_INPUTS, ids=[row[0] for row in LABEL_INPUTS])
def test_it_reads_what_is_on_the_bottle(typed, slug, regimen):
    match = best_match(typed)
    assert match is not None, typed
    assert (match.slug, match.regimen) == (slug, regimen)


def test_the_table_is_large_enough():
    assert len(LABEL_INPUTS) >= 60


def test_a_product_suffix_is_never_swapped_for_another_by_typo_matching():
    # "Robitussin DM" (dextromethorphan) must never become "Robitussin AC" (codeine).
    match = best_match("Robitussin DM")
    assert match.slug != "guaifenesin-and-codeine"


def test_a_misspelling_is_matched_but_never_shown_as_the_name():
    match = best_match("zolft")
    assert match.slug == "sertraline"
    assert "zolft" not in match.label.lower()
