"""The medication catalog and the reviewed interaction rules."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def normalize_name(text: str) -> str:
    """Fold a medication name for matching: NFKC, casefold, accents off, spacing squeezed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'")
    return " ".join(text.split())


class Severity(models.TextChoices):
    CONTRAINDICATED = "contraindicated", _("Avoid combining")
    MAJOR = "major", _("Serious")
    MODERATE = "moderate", _("Use caution")
    MINOR = "minor", _("Minor")
    NONE = "none", _("No interaction expected")


SEVERITY_RANK = {
    Severity.CONTRAINDICATED: 5,
    Severity.MAJOR: 4,
    Severity.MODERATE: 3,
    Severity.MINOR: 2,
    Severity.NONE: 1,
}


class SlugManager(models.Manager):
    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


class DrugClass(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True, help_text=_("Plain language, grade 8 or below."))
    duplicate_severity = models.CharField(
        max_length=20,
        choices=Severity.choices,
        blank=True,
        help_text=_("Set when taking two members at once matters (two SSRIs); leave blank otherwise."),
    )
    duplicate_warning = models.TextField(
        blank=True, help_text=_("What to tell a person who takes two members of this class.")
    )

    objects = SlugManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "drug classes"
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="drugclass_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class MedicationKind(models.TextChoices):
    PRESCRIPTION = "prescription", _("Prescription")
    OTC = "otc", _("Over the counter")
    HERBAL = "herbal", _("Herbal or supplement")
    SUBSTANCE = "substance", _("Alcohol or recreational substance")
    UNCLASSIFIED = "unclassified", _("Not classified yet")


class Medication(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=MedicationKind.choices, default=MedicationKind.PRESCRIPTION)
    classes = models.ManyToManyField(DrugClass, blank=True, related_name="medications")
    ingredients = models.ManyToManyField(
        "self",
        blank=True,
        symmetrical=False,
        related_name="products",
        help_text=_("For combination products: the medicines inside it."),
    )
    medlineplus_id = models.CharField(max_length=20, blank=True)
    drugbank_id = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True, help_text=_("Plain language, grade 8 or below."))
    curated = models.BooleanField(
        default=False,
        help_text=_("Part of the hand-checked catalog (ranked first in search)."),
    )
    interactions_reviewed = models.BooleanField(
        default=False,
        help_text=_(
            "A reviewer has checked this medicine against everything else in the reviewed set. "
            "Only then can the checker say 'no known interaction'."
        ),
    )

    objects = SlugManager()
    history = HistoricalRecords(m2m_fields=[classes])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("interactions:medication", args=[self.slug])

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class MedicationNameManager(models.Manager):
    def get_by_natural_key(self, normalized: str, medication_slug: str):
        return self.get(normalized=normalized, medication__slug=medication_slug)


class MedicationName(models.Model):
    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    normalized = models.CharField(max_length=200, db_index=True, editable=False)
    is_brand = models.BooleanField(default=False)

    objects = MedicationNameManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["medication", "normalized"], name="medicationname_unique_per_medication"),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str, str]:
        return (self.normalized, self.medication.slug)

    natural_key.dependencies = ["interactions.medication"]


class Route(models.TextChoices):
    ORAL = "oral", _("By mouth")
    INJECTION = "injection", _("Injection")
    PATCH = "patch", _("Skin patch")
    OTHER = "other", _("Other")


class Regimen(models.Model):
    """A dose form of one medication whose guidance differs from its other forms."""

    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="regimens")
    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=120, help_text=_("Technical name, e.g. 'Low-dose'."))
    patient_label = models.CharField(
        max_length=160,
        help_text=_("Plain words shown when we ask, e.g. 'Low-dose, usually 1 to 5 mg a day'."),
    )
    min_mg = models.DecimalField(max_digits=8, decimal_places=2)
    max_mg = models.DecimalField(max_digits=8, decimal_places=2)
    route = models.CharField(max_length=20, choices=Route.choices, default=Route.ORAL)
    frequency = models.CharField(max_length=60, blank=True)
    implied_by_brands = models.ManyToManyField(
        MedicationName,
        blank=True,
        related_name="implied_regimens",
        help_text=_("Brand names that always mean this form (Vivitrol means the injection)."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = SlugManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["medication__name", "position", "min_mg"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_mg__gte=0) & Q(max_mg__gte=models.F("min_mg")),
                name="regimen_mg_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medication.name}: {self.name}"

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class Reference(models.Model):
    """A source cited by rules and articles."""

    key = models.SlugField(max_length=120, unique=True, help_text=_("Short id, e.g. 'fda-vivitrol-label'."))
    citation = models.TextField()
    url = models.URLField(max_length=500, blank=True)
    doi = models.CharField(max_length=200, blank=True)
    pubmed_id = models.CharField(max_length=20, blank=True)

    class ReferenceManager(models.Manager):
        def get_by_natural_key(self, key: str):
            return self.get(key=key)

    objects = ReferenceManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["citation"]

    def __str__(self) -> str:
        return self.citation[:80]

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    @property
    def link(self) -> str:
        if self.url:
            return self.url
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pubmed_id:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pubmed_id}/"
        return ""


class Evidence(models.TextChoices):
    ESTABLISHED = "established", _("Established")
    PROBABLE = "probable", _("Probable")
    THEORETICAL = "theoretical", _("Theoretical")
    CASE_REPORTS = "case_reports", _("Case reports")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class StopSide(models.TextChoices):
    A = "a", _("Stop side A before starting side B")
    B = "b", _("Stop side B before starting side A")
    EITHER = "either", _("Either order")


class InteractionQuerySet(models.QuerySet):
    def published(self) -> InteractionQuerySet:
        return self.filter(status=Status.PUBLISHED)


class InteractionManager(models.Manager.from_queryset(InteractionQuerySet)):
    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


def _one_side(side: str) -> Q:
    med, cls = f"medication_{side}__isnull", f"drug_class_{side}__isnull"
    return Q(**{med: False, cls: True}) | Q(**{med: True, cls: False})


class Interaction(models.Model):
    """A reviewed rule between two sides, each a medication or a drug class."""

    slug = models.SlugField(max_length=160, unique=True)
    medication_a = models.ForeignKey(Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    drug_class_a = models.ForeignKey(DrugClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    regimen_a = models.ForeignKey(Regimen, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    medication_b = models.ForeignKey(Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    drug_class_b = models.ForeignKey(DrugClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    regimen_b = models.ForeignKey(Regimen, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Order-independent identity of the pair, derived on save; backs the uniqueness constraint.
    pair_key = models.CharField(max_length=300, editable=False)

    severity = models.CharField(max_length=20, choices=Severity.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField(help_text=_("What happens and why it matters, in plain words."))
    action = models.TextField(help_text=_("What to do: what to ask your provider, what not to change on your own."))
    urgent_signs = models.TextField(
        blank=True, help_text=_("One warning sign per line. These always point to emergency help.")
    )
    washout_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Structured timing: days between stopping one and starting the other."),
    )
    washout_stop = models.CharField(max_length=10, choices=StopSide.choices, blank=True)
    timing = models.TextField(blank=True, help_text=_("The timing rule in one plain sentence."))
    mechanism = models.TextField(blank=True, help_text=_("For the curious and for professionals."))
    evidence = models.CharField(max_length=20, choices=Evidence.choices)
    references = models.ManyToManyField(Reference, blank=True, related_name="interactions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_review_due = models.DateField(null=True, blank=True)

    objects = InteractionManager()
    history = HistoricalRecords(m2m_fields=[references])

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=_one_side("a"), name="interaction_side_a_one_target"),
            models.CheckConstraint(condition=_one_side("b"), name="interaction_side_b_one_target"),
            models.CheckConstraint(
                condition=Q(medication_a__isnull=True)
                | Q(medication_b__isnull=True)
                | ~Q(medication_a=models.F("medication_b"))
                | ~Q(regimen_a__isnull=True, regimen_b__isnull=True),
                name="interaction_not_medication_with_itself",
            ),
            models.CheckConstraint(
                condition=Q(drug_class_a__isnull=True)
                | Q(drug_class_b__isnull=True)
                | ~Q(drug_class_a=models.F("drug_class_b")),
                name="interaction_not_class_with_itself",
            ),
            models.CheckConstraint(
                condition=Q(regimen_a__isnull=True) | Q(medication_a__isnull=False),
                name="interaction_regimen_a_needs_medication",
            ),
            models.CheckConstraint(
                condition=Q(regimen_b__isnull=True) | Q(medication_b__isnull=False),
                name="interaction_regimen_b_needs_medication",
            ),
            models.UniqueConstraint(fields=["pair_key"], name="interaction_unique_pair"),
            models.CheckConstraint(
                condition=Q(author__isnull=True) | Q(reviewed_by__isnull=True) | ~Q(reviewed_by=models.F("author")),
                name="interaction_reviewer_not_author",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    def side_key(self, side: str) -> str:
        med = getattr(self, f"medication_{side}_id")
        cls = getattr(self, f"drug_class_{side}_id")
        reg = getattr(self, f"regimen_{side}_id")
        return f"m{med}r{reg or ''}" if med else f"c{cls}"

    def compute_pair_key(self) -> str:
        return "|".join(sorted([self.side_key("a"), self.side_key("b")]))

    @property
    def urgent_sign_list(self) -> list[str]:
        return [line.strip() for line in self.urgent_signs.splitlines() if line.strip()]

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]


# Derived fields are set in pre_save rather than save() so that fixtures (loaddata saves raw) get them too.
@receiver(pre_save, sender=MedicationName)
def _derive_normalized_name(sender, instance: MedicationName, **kwargs) -> None:
    instance.normalized = normalize_name(instance.name)


@receiver(pre_save, sender=Interaction)
def _derive_pair_key(sender, instance: Interaction, **kwargs) -> None:
    instance.pair_key = instance.compute_pair_key()
