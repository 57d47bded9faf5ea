"""The medication catalog and the reviewed interaction rules."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core import content_version


def normalize_name(text: str) -> str:
    """Fold a medication name for matching: NFKC, casefold, accents off, spacing squeezed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'")
    return " ".join(text.split())


def published_has_reviewer() -> Q:
    """Published content names who approved it: a staff account, or (shipped content) a name."""
    return ~Q(status="published") | Q(reviewed_by__isnull=False) | ~Q(reviewed_by_name="")


def mid_sentence(name: str) -> str:
    """A name as it reads mid-sentence: generic names in lower case ("sertraline"), brands as spelt."""
    if name[:1].isupper() and name[1:] == name[1:].lower():
        return name[:1].lower() + name[1:]
    return name


class Severity(models.TextChoices):
    CONTRAINDICATED = "contraindicated", _("Avoid combining")
    MAJOR = "major", _("Serious")
    MODERATE = "moderate", _("Use caution")
    MINOR = "minor", _("Minor")
    NONE = "none", _("No interaction expected")


# Rules this serious must list the warning signs that need urgent care before they can be published.
URGENT_SEVERITIES = frozenset({Severity.CONTRAINDICATED, Severity.MAJOR})


def rule_publish_problems(rule: Interaction | ListRule) -> list[str]:
    """What stops a pair or whole-list rule from being published, in words for the person fixing it."""
    problems = []
    if not rule.summary.strip():
        problems.append("Add a summary: what happens and why it matters.")
    if not rule.action.strip():
        problems.append("Add an action: what the person should do.")
    if rule.pk is None or not rule.references.exists():
        problems.append("Add at least one reference.")
    if rule.severity in URGENT_SEVERITIES and not rule.urgent_sign_list:
        problems.append(URGENT_SIGNS_REQUIRED)
    return problems


URGENT_SIGNS_REQUIRED = "Add urgent warning signs: they are required for 'avoid combining' and 'serious' rules."


SEVERITY_RANK = {
    Severity.CONTRAINDICATED: 5,
    Severity.MAJOR: 4,
    Severity.MODERATE: 3,
    Severity.MINOR: 2,
    Severity.NONE: 1,
}


class ContentQuerySet(models.QuerySet):
    """Bulk writes send no signals, so they move the content version themselves: no process may keep
    answering from content that `update()` or `bulk_create()` changed underneath it."""

    def update(self, **kwargs) -> int:
        changed = super().update(**kwargs)
        content_version.bump()
        return changed

    def bulk_create(self, *args, **kwargs) -> list:
        created = super().bulk_create(*args, **kwargs)
        content_version.bump()
        return created

    def bulk_update(self, *args, **kwargs) -> int:
        changed = super().bulk_update(*args, **kwargs)
        content_version.bump()
        return changed

    def delete(self) -> tuple[int, dict[str, int]]:
        deleted = super().delete()
        content_version.bump()
        return deleted


class SlugManager(models.Manager.from_queryset(ContentQuerySet)):
    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


class GroupKind(models.TextChoices):
    CLASS = "class", _("Medicine class")
    MECHANISM = "mechanism", _("Mechanism (how it acts)")


class DrugClass(models.Model):
    """A group of medicines: a therapeutic class (SSRIs) or a mechanism ("strong CYP3A4 inhibitor").

    A medicine's groups are its mechanism profile: one rule between two groups covers every pair of
    medicines that belong to them.
    """

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=GroupKind.choices, default=GroupKind.CLASS)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    also_in = models.ManyToManyField(
        "self",
        blank=True,
        symmetrical=False,
        related_name="implied_by",
        help_text=_("Groups every member of this one also belongs to (every SSRI raises serotonin)."),
    )
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
        verbose_name = "group (class or mechanism)"
        verbose_name_plural = "groups (classes and mechanisms)"
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="drugclass_not_own_parent"),
            models.CheckConstraint(condition=Q(kind__in=GroupKind.values), name="drugclass_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class MedicationKind(models.TextChoices):
    PRESCRIPTION = "prescription", _("Prescription")
    OTC = "otc", _("Over the counter")
    HERBAL = "herbal", _("Herbal or supplement")
    # Alcohol, cannabis, kratom: kept apart from medicines on the provider sheet, in neutral words.
    SUBSTANCE = "substance", _("Alcohol or other substance")
    UNCLASSIFIED = "unclassified", _("Not classified yet")


class MedicationQuerySet(ContentQuerySet):
    def not_covered(self, today: date | None = None) -> MedicationQuerySet:
        """Not signed off as covered, or signed off longer ago than the review interval."""
        lapsed_before = (today or date.today()) - timedelta(days=settings.REVIEW_INTERVAL_DAYS)
        return self.filter(
            Q(interactions_reviewed=False)
            | Q(coverage_signed_on__isnull=True)
            | Q(coverage_signed_on__lt=lapsed_before)
        )


class MedicationManager(SlugManager.from_queryset(MedicationQuerySet)):
    pass


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
        "covered",
        default=False,
        help_text=_(
            "A reviewer has checked this medicine's label (contraindications, warnings, drug interactions) "
            "against everything else in the reviewed set. Only then can the checker say 'reviewed: no "
            "interaction expected'. Needs the sign-off below; it lapses after the review interval."
        ),
    )
    coverage_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    coverage_signer = models.CharField(
        max_length=120,
        blank=True,
        help_text=_("Who signed the coverage review, as shown (a staff name, or 'MedWise content')."),
    )
    coverage_signed_on = models.DateField(null=True, blank=True)
    coverage_label = models.CharField(max_length=300, blank=True, help_text=_("Which label was checked."))
    coverage_label_revised = models.CharField(max_length=40, blank=True, help_text=_("The label's revision date."))
    coverage_setid = models.CharField(max_length=60, blank=True, help_text=_("DailyMed set id, where known."))
    coverage_notes = models.TextField(blank=True)
    coverage_references = models.ManyToManyField("Reference", blank=True, related_name="covered_medications")

    objects = MedicationManager()
    history = HistoricalRecords(m2m_fields=[classes])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("interactions:medication", args=[self.slug])

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def is_substance(self) -> bool:
        """Alcohol, cannabis, kratom and the like: something a person uses, not a medicine they take."""
        return self.kind == MedicationKind.SUBSTANCE

    def coverage_expires_on(self) -> date | None:
        if self.coverage_signed_on is None:
            return None
        return self.coverage_signed_on + timedelta(days=settings.REVIEW_INTERVAL_DAYS)

    def is_covered(self, today: date | None = None) -> bool:
        """Signed off as covered, and the sign-off has not lapsed."""
        expires = self.coverage_expires_on()
        return bool(self.interactions_reviewed and expires and expires >= (today or date.today()))

    def coverage_problems(self, today: date | None = None) -> list[str]:
        """Why this medicine is not covered (empty when it is): shown to staff."""
        problems = []
        if not self.interactions_reviewed:
            problems.append(_("Its label has not been signed off against the reviewed set."))
        elif not self.coverage_signed_on:
            problems.append(_("The sign-off has no date."))
        elif not self.is_covered(today):
            problems.append(_("The sign-off has lapsed: it needs a new review."))
        if not self.coverage_label:
            problems.append(_("No label is recorded."))
        return problems


class MedicationNameManager(models.Manager.from_queryset(ContentQuerySet)):
    def get_by_natural_key(self, normalized: str, medication_slug: str):
        return self.get(normalized=normalized, medication__slug=medication_slug)


class MedicationName(models.Model):
    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    normalized = models.CharField(max_length=200, db_index=True, editable=False)
    is_brand = models.BooleanField(default=False)
    is_misspelling = models.BooleanField(
        default=False, help_text=_("A spelling people type by mistake: matched by search, never shown as a name.")
    )

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
    classes = models.ManyToManyField(
        DrugClass,
        blank=True,
        related_name="regimens",
        help_text=_("Groups the medicine belongs to only at this dose (methadone over 100 mg: QT risk)."),
    )

    objects = SlugManager()
    history = HistoricalRecords(m2m_fields=[classes])

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

    class ReferenceManager(models.Manager.from_queryset(ContentQuerySet)):
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


class InteractionQuerySet(ContentQuerySet):
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

    # One list of a rule's fields for every writer (import/export, content packs): they cannot drift.
    SIDE_FIELDS = ("medication_a", "drug_class_a", "regimen_a", "medication_b", "drug_class_b", "regimen_b")
    TEXT_FIELDS = (
        "title",
        "severity",
        "summary",
        "action",
        "urgent_signs",
        "washout_days",
        "washout_stop",
        "timing",
        "mechanism",
        "evidence",
    )
    REVIEW_FIELDS = ("status", "reviewed_on", "next_review_due")

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
    reviewed_by_name = models.CharField(
        max_length=120,
        blank=True,
        help_text=_("Who approved shipped content that no account here approved (set by the content loaders)."),
    )
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
            # A group with itself is allowed: "two medicines that raise serotonin" is one rule.
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
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="interaction_severity_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="interaction_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(reviewed_on__isnull=False),
                name="interaction_published_has_review_date",
            ),
            models.CheckConstraint(condition=published_has_reviewer(), name="interaction_published_has_reviewer"),
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

    def publish_problems(self) -> list[str]:
        return rule_publish_problems(self)


# Derived fields are set in pre_save rather than save() so that fixtures (loaddata saves raw) get them too.
@receiver(pre_save, sender=MedicationName)
def _derive_normalized_name(sender, instance: MedicationName, **kwargs) -> None:
    instance.normalized = normalize_name(instance.name)


@receiver(pre_save, sender=Interaction)
def _derive_pair_key(sender, instance: Interaction, **kwargs) -> None:
    instance.pair_key = instance.compute_pair_key()


def _split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class Reviewed(models.Model):
    """The review workflow's fields, for content added after the first release (rules predate it)."""

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by_name = models.CharField(
        max_length=120,
        blank=True,
        help_text=_("Who approved shipped content that no account here approved (set by the content loaders)."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_review_due = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ListRuleQuerySet(ContentQuerySet):
    def published(self) -> ListRuleQuerySet:
        return self.filter(status=Status.PUBLISHED)

    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


class ListRule(Reviewed):
    """A whole-list finding: harm that comes from the sum (three sedating medicines), not from one pair."""

    slug = models.SlugField(max_length=160, unique=True)
    drug_class = models.ForeignKey(
        DrugClass,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="group",
        help_text=_("The group whose members are counted."),
    )
    min_count = models.PositiveSmallIntegerField(
        default=3, help_text=_("How many entries on the list must belong to the group.")
    )
    with_class = models.ForeignKey(
        DrugClass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="together with group",
        help_text=_("Optional: fires only when another entry belongs to this group too (an MAO inhibitor)."),
    )
    severity = models.CharField(max_length=20, choices=Severity.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField(help_text=_("Write {medicines} where the names go."))
    action = models.TextField()
    urgent_signs = models.TextField(blank=True, help_text=_("One warning sign per line."))
    mechanism = models.TextField(blank=True)
    evidence = models.CharField(max_length=20, choices=Evidence.choices, default=Evidence.ESTABLISHED)
    references = models.ManyToManyField(Reference, blank=True, related_name="list_rules")

    objects = ListRuleQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[references])

    class Meta(Reviewed.Meta):
        ordering = ["title"]
        verbose_name = "whole-list rule"
        constraints = [
            models.CheckConstraint(condition=Q(min_count__gte=1), name="listrule_min_count_positive"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="listrule_severity_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="listrule_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(reviewed_on__isnull=False),
                name="listrule_published_has_review_date",
            ),
            models.CheckConstraint(condition=published_has_reviewer(), name="listrule_published_has_reviewer"),
        ]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def urgent_sign_list(self) -> list[str]:
        return _split_lines(self.urgent_signs)

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    def publish_problems(self) -> list[str]:
        return rule_publish_problems(self)


class StandingMessageQuerySet(ContentQuerySet):
    def published(self) -> StandingMessageQuerySet:
        return self.filter(status=Status.PUBLISHED)

    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


class StandingMessage(Reviewed):
    """What everyone taking a medicine (a dose form, a class, a mechanism) should know, pair or no pair."""

    slug = models.SlugField(max_length=160, unique=True)
    medication = models.ForeignKey(Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    regimen = models.ForeignKey(Regimen, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    drug_class = models.ForeignKey(
        DrugClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="group"
    )
    title = models.CharField(max_length=200)
    text = models.TextField(help_text=_("One or two short sentences, shown first."))
    more = models.TextField(blank=True, help_text=_("The detail, behind a 'more' disclosure."))
    position = models.PositiveSmallIntegerField(default=100)
    references = models.ManyToManyField(Reference, blank=True, related_name="standing_messages")

    objects = StandingMessageQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[references])

    class Meta(Reviewed.Meta):
        ordering = ["position", "title"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(medication__isnull=False, drug_class__isnull=True)
                    | Q(medication__isnull=True, regimen__isnull=True, drug_class__isnull=False)
                ),
                name="standingmessage_one_target",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="standingmessage_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(reviewed_on__isnull=False),
                name="standingmessage_published_has_review_date",
            ),
            models.CheckConstraint(condition=published_has_reviewer(), name="standingmessage_published_has_reviewer"),
        ]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    def publish_problems(self) -> list[str]:
        """What stops this message from being published, in words for the person fixing it."""
        problems = []
        if not self.text.strip():
            problems.append("Add the message text.")
        if self.pk is None or not self.references.exists():
            problems.append("Add at least one reference.")
        return problems

    def target_key(self) -> tuple:
        """The checker's side key this message is attached to."""
        if self.drug_class_id is not None:
            return ("c", self.drug_class_id)
        return ("m", self.medication_id, self.regimen_id)


class RevisionState(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved: live")
    SENT_BACK = "sent_back", _("Sent back")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RevisionAction(models.TextChoices):
    ADD = "add", _("Add")
    CHANGE = "change", _("Change")
    DELETE = "delete", _("Delete")


class Revision(models.Model):
    """A proposed change to content patients see, held until a second person approves it.

    Catalog items (medicines, names, groups, doses, references) change only through revisions; rules,
    articles and messages do once published (drafts are not public, so they are edited in place).
    `changes` holds the proposed value of each changed field (foreign keys as ids, many-to-many as
    lists of ids); `base` holds the live values it was written against, so a revision written
    against an older live version cannot silently overwrite a newer one. See staff/revisions.py.
    """

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("Empty for a new item."))
    object_label = models.CharField(max_length=300, help_text=_("What the item was called when this was written."))
    action = models.CharField(max_length=10, choices=RevisionAction.choices, default=RevisionAction.CHANGE)
    changes = models.JSONField(default=dict, blank=True)
    base = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, help_text=_("Why: for the reviewer."))
    state = models.CharField(max_length=20, choices=RevisionState.choices, default=RevisionState.PENDING)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_revision", "Can approve changes to content patients see")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in RevisionState]), name="revision_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(action__in=[a.value for a in RevisionAction]), name="revision_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(action=RevisionAction.ADD) | Q(object_id__isnull=False), name="revision_names_its_item"
            ),
            # Approved by someone, and never by the person who wrote it (four eyes).
            models.CheckConstraint(
                condition=~Q(state=RevisionState.APPROVED) | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="approved_revision_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(state=RevisionState.APPROVED) | ~Q(decided_by=models.F("author")),
                name="revision_not_approved_by_author",
            ),
        ]

    def __str__(self) -> str:
        return f"Revision {self.pk}: {self.get_action_display().lower()} {self.object_label}"

    @property
    def model(self) -> type[models.Model]:
        return self.content_type.model_class()

    def live_object(self) -> models.Model | None:
        if self.object_id is None:
            return None
        return self.model._default_manager.filter(pk=self.object_id).first()
