"""Changes to content patients see wait for a second person: propose, preview, approve.

An edit to a catalog item (a medicine, a name, a group, a dose, a reference) or to published
content (a rule, an article, a message) is not saved where patients see it. It becomes a
`Revision`: the proposed value of each changed field and the live value it was written against.
The live version stays until someone other than the author approves; approving applies the
change in one transaction and, for reviewed content, names the approver as its reviewer.

`impact()` shows a reviewer what approving would change for patients: the fields, and each pair of
medicines whose answer moves ("naltrexone + oxycodone: Avoid combining -> Not reviewed here"). It
applies the revision inside a transaction, asks the checker, and rolls it all back.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from interactions import checker
from interactions.models import (
    DrugClass,
    Interaction,
    Medication,
    Regimen,
    Revision,
    RevisionAction,
    RevisionState,
    Severity,
    Status,
)
from staff.workflow import WORKFLOW_FIELDS

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

APPROVE_PERMISSION = "interactions.approve_revision"
# Every change to these goes through a revision: each one decides what the checker or search says.
CATALOG_MODELS: tuple[type[models.Model], ...] = tuple(
    apps.get_model(label) for label in settings.PATIENT_CONTENT_MODELS[: settings.CATALOG_MODEL_COUNT]
)
# Set by the workflow, the sign-off action or the database; never proposed.
_NOT_PROPOSED = {
    *WORKFLOW_FIELDS,
    "updated_at",
    "normalized",
    "pair_key",
    "coverage_signed_by",
    "coverage_signer",
    "coverage_signed_on",
    "reading_grade",
}
# How many affected medicines the preview checks against everything covered.
IMPACT_MEDICINE_LIMIT = 40


def _is_reviewed_model(model: type[models.Model]) -> bool:
    return any(f.name == "status" for f in model._meta.concrete_fields)


def needs_revision(model: type[models.Model], obj: models.Model | None) -> bool:
    """Whether saving this item would change what patients see (so it must wait for approval)."""
    if model in CATALOG_MODELS:
        return True
    return _is_reviewed_model(model) and obj is not None and obj.pk is not None and obj.status == Status.PUBLISHED


def proposable_fields(model: type[models.Model]) -> dict[str, models.Field]:
    """The fields a revision may carry: what staff type in, not what the workflow or database sets."""
    found = {}
    for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
        if f.auto_created or not f.editable or f.primary_key or f.name in _NOT_PROPOSED:
            continue
        found[f.name] = f
    return found


# --- values as JSON -----------------------------------------------------------------------------


def _encode(f: models.Field, value: Any) -> Any:
    if f.many_to_many:
        return sorted(int(getattr(item, "pk", item)) for item in (value or []))
    if f.is_relation:
        return getattr(value, "pk", value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def live_values(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    fields = proposable_fields(type(obj))
    values = {}
    for name in names:
        f = fields[name]
        if f.many_to_many:
            values[name] = sorted(getattr(obj, name).values_list("pk", flat=True)) if obj.pk else []
        elif f.is_relation:
            values[name] = getattr(obj, f.attname)
        else:
            values[name] = _encode(f, getattr(obj, name))
    return values


# --- proposing ----------------------------------------------------------------------------------


def propose(
    *,
    model: type[models.Model],
    obj: models.Model | None,
    values: dict[str, Any],
    user: AbstractBaseUser,
    action: str = RevisionAction.CHANGE,
    note: str = "",
) -> Revision | None:
    """Record a proposed add, change or delete; None when a change changes nothing."""
    fields = proposable_fields(model)
    proposed = {name: _encode(fields[name], value) for name, value in values.items() if name in fields}
    if action == RevisionAction.ADD:
        base, changes, label = {}, proposed, str(values.get("name") or values.get("title") or values.get("key") or "")
    elif action == RevisionAction.DELETE:
        base, changes, label = live_values(obj, fields), {}, str(obj)
    else:
        live = live_values(obj, proposed)
        changes = {name: value for name, value in proposed.items() if value != live[name]}
        if not changes:
            return None
        base, label = {name: live[name] for name in changes}, str(obj)
    return Revision.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_id=obj.pk if obj is not None and action != RevisionAction.ADD else None,
        object_label=(label or model._meta.verbose_name)[:300],
        action=action,
        changes=changes,
        base=base,
        note=note,
        author=user,
    )


def pending_for(obj: models.Model) -> list[Revision]:
    return list(
        Revision.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk, state=RevisionState.PENDING
        ).select_related("author")
    )


# --- deciding -----------------------------------------------------------------------------------


def can_approve(user: AbstractBaseUser, revision: Revision) -> bool:
    if not (user.is_active and user.has_perm(APPROVE_PERMISSION)):
        return False
    model = revision.model
    if _is_reviewed_model(model):
        return user.has_perm(f"{model._meta.app_label}.publish_{model._meta.model_name}")
    return True


def approve(*, revision: Revision, user: AbstractBaseUser, today: datetime.date | None = None) -> models.Model | None:
    """A second person approves: the change goes live. Returns the item (None after a delete)."""
    if not can_approve(user, revision):
        raise PermissionDenied("Only clinical reviewers can approve changes.")
    with transaction.atomic():
        current = _locked_pending(revision)
        if current.author_id is not None and current.author_id == user.pk:
            raise PermissionDenied("You wrote this change, so another reviewer must approve it.")
        obj = _apply(current, user=user, today=today or timezone.localdate())
        current.state = RevisionState.APPROVED
        current.decided_by = user
        current.decided_at = timezone.now()
        if current.action == RevisionAction.ADD and obj is not None:
            current.object_id = obj.pk
        current.save()
    return obj


def send_back(*, revision: Revision, user: AbstractBaseUser, note: str = "") -> Revision:
    """A reviewer declines: nothing changes for patients; the author sees why."""
    if not can_approve(user, revision):
        raise PermissionDenied("Only clinical reviewers can send changes back.")
    return _decide(revision, user=user, state=RevisionState.SENT_BACK, note=note)


def withdraw(*, revision: Revision, user: AbstractBaseUser) -> Revision:
    """The author takes back a change nobody has decided on yet."""
    if revision.author_id != user.pk:
        raise PermissionDenied("Only the person who wrote this change can withdraw it.")
    return _decide(revision, user=user, state=RevisionState.WITHDRAWN)


def _locked_pending(revision: Revision) -> Revision:
    current = Revision.objects.select_for_update().get(pk=revision.pk)
    if current.state != RevisionState.PENDING:
        raise ValidationError(f"This change is already {current.get_state_display().lower()}.")
    return current


def _decide(revision: Revision, *, user: AbstractBaseUser, state: str, note: str = "") -> Revision:
    with transaction.atomic():
        current = _locked_pending(revision)
        current.state = state
        current.decided_by = user
        current.decided_at = timezone.now()
        current.decision_note = note[:2000]
        current.save()
    return current


def _apply(revision: Revision, *, user: AbstractBaseUser, today: datetime.date) -> models.Model | None:
    """Write the revision to the live item (inside the caller's transaction)."""
    model = revision.model
    fields = proposable_fields(model)
    if revision.action == RevisionAction.ADD:
        obj = model()
    else:
        obj = model._default_manager.select_for_update().filter(pk=revision.object_id).first()
        if obj is None:
            raise ValidationError("The item this change is for no longer exists.")
        live = live_values(obj, [name for name in revision.base if name in fields])
        stale = [fields[name].verbose_name for name, value in live.items() if value != revision.base[name]]
        if stale and revision.action == RevisionAction.CHANGE:
            raise ValidationError(
                f"The live {', '.join(str(s) for s in stale)} changed after this was written. "
                "Send it back so it can be written again from the live version."
            )
    author = revision.author.get_username() if revision.author else "unknown"
    obj._history_user = user
    obj._change_reason = f"Revision {revision.pk} by {author}, approved"[:100]
    if revision.action == RevisionAction.DELETE:
        try:
            obj.delete()
        except ProtectedError as error:
            used_by = ", ".join(sorted({str(o) for o in error.protected_objects})[:5])
            raise ValidationError(f"It is still used by: {used_by}. Change those first.") from error
        return None
    many = {}
    for name, value in revision.changes.items():
        f = fields.get(name)
        if f is None:
            continue
        if f.many_to_many:
            many[name] = value
        elif f.is_relation:
            setattr(obj, f.attname, value)
        else:
            setattr(obj, name, f.to_python(value))
    if _is_reviewed_model(model) and revision.action == RevisionAction.CHANGE:
        # The approver is now the reviewer of the live text.
        obj.reviewed_by = user
        obj.reviewed_by_name = ""
        obj.reviewed_on = today
        obj.next_review_due = today + datetime.timedelta(days=settings.REVIEW_INTERVAL_DAYS)
    if revision.action == RevisionAction.ADD and _is_reviewed_model(model):
        obj.status = Status.DRAFT
        obj.author = revision.author
    obj.full_clean(exclude=list(many))
    obj.save()
    for name, ids in many.items():
        getattr(obj, name).set(ids)
    if _is_reviewed_model(model) and obj.status == Status.PUBLISHED:
        problems = obj.publish_problems()
        if problems:
            raise ValidationError(problems)
    return obj


# --- what approving would change ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class PairChange:
    pair: str
    before: str
    after: str

    @property
    def less_cautious(self) -> bool:
        """The answer gets weaker (a warning lost or softened, or a new "no interaction expected"):
        the changes a reviewer must not miss."""
        if self.after == NO_INTERACTION:
            return True
        return ANSWER_RANK.get(self.after, 0) < ANSWER_RANK.get(self.before, 0)


NOT_IN_CATALOG = "Not in the catalog"
NOT_REVIEWED = "Not reviewed here"
NO_INTERACTION = "No interaction expected"
ANSWER_RANK = {
    Severity.CONTRAINDICATED.label: 6,
    Severity.MAJOR.label: 5,
    Severity.MODERATE.label: 4,
    Severity.MINOR.label: 3,
    NO_INTERACTION: 2,
    NOT_REVIEWED: 1,
    NOT_IN_CATALOG: 0,
}


@dataclass
class Impact:
    fields: list[FieldChange] = field(default_factory=list)
    pairs: list[PairChange] = field(default_factory=list)
    pairs_checked: int = 0
    medicines_checked: list[str] = field(default_factory=list)
    more_medicines: int = 0
    # Why approving would fail now (stale, still in use, not ready to publish), if it would.
    problem: str = ""


def impact(revision: Revision, *, user: AbstractBaseUser, today: datetime.date | None = None) -> Impact:
    """What approving this revision would change for patients, worked out without changing anything."""
    today = today or timezone.localdate()
    result = Impact(fields=field_changes(revision))
    if revision.state != RevisionState.PENDING:
        return result
    # Built before the change is applied; its medicines load lazily, after the rollback below.
    before_content = checker.build_content()
    with transaction.atomic():
        before_affected = _affected_medicines(revision, before_content)
        savepoint = transaction.savepoint()
        try:
            _apply(revision, user=user, today=today)
        except ValidationError as error:
            transaction.savepoint_rollback(savepoint)
            result.problem = " ".join(error.messages)
            return result
        after_content = checker.build_content()
        after_affected = _affected_medicines(revision, after_content)
        affected = sorted(set(before_affected) | set(after_affected))
        result.more_medicines = max(0, len(affected) - IMPACT_MEDICINE_LIMIT)
        affected = affected[:IMPACT_MEDICINE_LIMIT]
        others = sorted(_covered_slugs(after_content) | set(affected))
        pairs = sorted({tuple(sorted((a, b))) for a in affected for b in others if a != b})
        after = _answers(pairs, after_content, today)
        transaction.savepoint_rollback(savepoint)
    before = _answers(pairs, before_content, today)
    result.medicines_checked = affected
    result.pairs_checked = len(pairs)
    names = _display_names({slug for pair in pairs for slug in pair}, before_content, after_content)
    result.pairs = [
        PairChange(_sentence_start(f"{names[a]} + {names[b]}"), before[(a, b)], after[(a, b)])
        for a, b in pairs
        if before[(a, b)] != after[(a, b)]
    ]
    result.pairs.sort(key=lambda change: (not change.less_cautious, change.pair))
    return result


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _affected_medicines(revision: Revision, content: checker.ReviewedContent) -> list[str]:
    """Slugs of the medicines whose pair answers this revision could move, in the database's current state."""
    model = revision.model
    obj = revision.live_object() if revision.object_id else _added_object(revision)
    if obj is None:
        return []
    medication_ids: set[int] = set()
    group_ids: set[int] = set()
    if isinstance(obj, Medication):
        medication_ids.add(obj.pk)
    elif isinstance(obj, Regimen):
        medication_ids.add(obj.medication_id)
    elif isinstance(obj, DrugClass):
        group_ids.add(obj.pk)
    elif isinstance(obj, Interaction):
        for side in ("a", "b"):
            medication_ids.add(getattr(obj, f"medication_{side}_id"))
            group_ids.add(getattr(obj, f"drug_class_{side}_id"))
            regimen = getattr(obj, f"regimen_{side}")
            if regimen is not None:
                medication_ids.add(regimen.medication_id)
    elif model not in (Medication, Regimen, DrugClass, Interaction):
        return []
    group_ids.discard(None)
    medication_ids.discard(None)
    if group_ids:
        within = {g for g, ancestors in content.ancestors.items() if group_ids & ancestors.keys()}
        medication_ids |= set(Medication.objects.filter(classes__in=within).values_list("pk", flat=True))
        medication_ids |= set(Regimen.objects.filter(classes__in=within).values_list("medication_id", flat=True))
    # Combination products answer through their ingredients.
    medication_ids |= set(Medication.objects.filter(ingredients__in=medication_ids).values_list("pk", flat=True))
    return sorted(Medication.objects.filter(pk__in=medication_ids).values_list("slug", flat=True))


def _added_object(revision: Revision) -> models.Model | None:
    """After an add is applied inside the preview, the new row (found by its slug)."""
    slug = revision.changes.get("slug")
    if revision.action != RevisionAction.ADD or not slug:
        return None
    return revision.model._default_manager.filter(slug=slug).first()


def _covered_slugs(content: checker.ReviewedContent) -> set[str]:
    return set(Medication.objects.filter(pk__in=content.coverage_expires).values_list("slug", flat=True))


def _answers(pairs: list[tuple[str, str]], content: checker.ReviewedContent, today: datetime.date) -> dict:
    content.medications({slug for pair in pairs for slug in pair})  # one load for all of them
    answers = {}
    for a, b in pairs:
        result = checker.check([checker.CheckEntry(a), checker.CheckEntry(b)], today=today, content=content)
        answers[(a, b)] = _answer_label(result)
    return answers


def _answer_label(result: checker.CheckResult) -> str:
    if not result.pairs:
        return NOT_IN_CATALOG
    pair = result.pairs[0]
    if pair.status == checker.PairStatus.FINDING:
        return str(Severity(pair.severity).label)
    if pair.status == checker.PairStatus.NOT_REVIEWED:
        return NOT_REVIEWED
    return NO_INTERACTION


def _display_names(slugs: set[str], *contents: checker.ReviewedContent) -> dict[str, str]:
    names = {slug: slug for slug in slugs}
    for content in contents:
        for slug, medication in content.medications(slugs).items():
            names[slug] = checker.display_name(medication)
    return names


def field_changes(revision: Revision) -> list[FieldChange]:
    """Each field the revision changes, before and after, in words (names rather than ids)."""
    fields = proposable_fields(revision.model)
    if revision.action == RevisionAction.DELETE:
        return [FieldChange("The whole item", revision.object_label, "Deleted")]
    changes = []
    for name, after in revision.changes.items():
        f = fields.get(name)
        if f is None:
            continue
        before = revision.base.get(name) if revision.action == RevisionAction.CHANGE else None
        if revision.action == RevisionAction.ADD and after in ("", None, []):
            continue
        changes.append(FieldChange(str(f.verbose_name).capitalize(), _show(f, before), _show(f, after)))
    return changes


def _show(f: models.Field, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    if f.many_to_many or f.is_relation:
        ids = value if isinstance(value, list) else [value]
        found = {o.pk: str(o) for o in f.related_model._default_manager.filter(pk__in=ids)}
        return ", ".join(found.get(i, f"#{i} (deleted)") for i in ids)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)
