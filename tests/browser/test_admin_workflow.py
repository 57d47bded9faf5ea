"""The staff workspace in real Chromium: an editor drafts and submits a rule, a reviewer previews and
publishes it, patients see it on the check page, the history shows both steps, and an editor's
attempt to publish is refused. Everyone signs in with a password and a real TOTP code."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from education.models import Article
from interactions.models import Interaction, Medication, Reference, Status
from staff.workflow import EDITOR_GROUP, REVIEWER_GROUP, ensure_roles
from tests.browser.conftest import DESKTOP, BrowserLog, build_list

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-staff-password-7"
RULE_TITLE = "Acamprosate and ibuprofen (staff test)"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_staff(username: str, group: str):
    ensure_roles()  # transactional tests flush the database, groups included
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


def totp_code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(page: Page, base_url: str, user) -> None:
    page.goto(base_url + "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(totp_code(user))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + "/admin/")
    expect(page.locator("#review-queue")).to_be_visible()


def pick_autocomplete(page: Page, field: str, typed: str, option: str | re.Pattern) -> None:
    """Choose an option in one of the admin's autocomplete (select2) widgets."""
    page.locator(f"#id_{field}").locator("xpath=following-sibling::span[contains(@class, 'select2')]").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=option).first.click()


def test_an_editor_drafts_a_rule_and_a_reviewer_publishes_it(
    live_server, page: Page, browser: Browser, seeded, artifacts_dir
):
    editor = make_staff("edna-editor", EDITOR_GROUP)
    reviewer = make_staff("rita-reviewer", REVIEWER_GROUP)
    base = live_server.url
    page.set_viewport_size(DESKTOP)

    # The editor drafts the rule and submits it.
    sign_in(page, base, editor)
    page.goto(base + reverse("admin:interactions_interaction_add"))
    pick_autocomplete(page, "medication_a", "acampro", "Acamprosate")
    pick_autocomplete(page, "medication_b", "ibupro", re.compile(r"^Ibuprofen$"))
    page.get_by_label("Title").fill(RULE_TITLE)
    page.get_by_label("Severity").select_option(label="Use caution")
    page.get_by_label("Summary").fill("Both are usually fine together. Ibuprofen can upset your stomach.")
    page.get_by_label("Action").fill("Take ibuprofen with food. Ask your pharmacist if you take it most days.")
    page.locator("#id_evidence").select_option(label="Theoretical")
    pick_autocomplete(page, "references", "naltrexone hydrochloride", "Naltrexone hydrochloride")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".workflow-panel .status-label")).to_have_text("Draft")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("was submitted for review")
    expect(page.locator(".workflow-panel .status-label")).to_have_text("In review")
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    rule = Interaction.objects.get(title=RULE_TITLE)
    assert rule.slug == "acamprosate-and-ibuprofen-staff-test"  # filled in from the title
    assert (rule.status, rule.author) == (Status.IN_REVIEW, editor)

    # The reviewer finds it in the review queue, previews it, and publishes it.
    reviewer_context = browser.new_context(viewport=DESKTOP)
    try:
        reviewer_page = reviewer_context.new_page()
        log = BrowserLog().attach(reviewer_page)
        sign_in(reviewer_page, base, reviewer)
        queue = reviewer_page.locator("#review-queue")
        expect(queue).to_contain_text(RULE_TITLE)
        reviewer_page.screenshot(path=str(artifacts_dir / "admin-review-queue-1280.png"), full_page=True)
        queue.get_by_role("link", name=RULE_TITLE).click()
        reviewer_page.get_by_role("link", name="Preview as patients see it").click()
        card = reviewer_page.locator("#findings .finding")
        expect(card.locator(".finding-title")).to_have_text(RULE_TITLE)
        expect(card.locator(".pair")).to_have_text("Acamprosate with Ibuprofen")
        expect(card.locator(".badge")).to_contain_text("Use caution")
        expect(reviewer_page.locator(".draft-banner")).to_contain_text("Status: In review")
        reviewer_page.screenshot(path=str(artifacts_dir / "admin-rule-preview-1280.png"), full_page=True)
        reviewer_page.get_by_role("link", name="Back to the rule").click()
        reviewer_page.get_by_role("button", name="Approve and publish").click()
        expect(reviewer_page.locator(".messagelist")).to_contain_text("was approved and published")
        expect(reviewer_page.locator(".workflow-panel .status-label")).to_have_text("Published")
        # No CSP violation or console error from the queue, preview or workflow pages.
        log.assert_clean(base)

        # The history shows both steps: who, when, what changed.
        reviewer_page.get_by_role("link", name="History").click()
        history = reviewer_page.locator("#change-history")
        expect(history).to_contain_text("Submitted for review")
        expect(history).to_contain_text("Approved and published")
        expect(history.locator("tr", has_text="Submitted for review")).to_contain_text("edna-editor")
        expect(history.locator("tr", has_text="Approved and published")).to_contain_text("rita-reviewer")
        expect(history.locator("tr", has_text="Approved and published")).to_contain_text("In review → Published")
    finally:
        reviewer_context.close()
    rule.refresh_from_db()
    assert (rule.status, rule.reviewed_by) == (Status.PUBLISHED, reviewer)

    # Patients see it on the check page.
    public = browser.new_context(viewport=DESKTOP)
    try:
        public_page = public.new_page()
        build_list(public_page, base, ["acamprosate", "ibuprofen"])
        expect(public_page.locator("#findings .finding-title")).to_contain_text([RULE_TITLE])
    finally:
        public.close()

    # The editor's later edit is a revision: patients keep the live text until a reviewer approves it.
    page.reload()
    expect(page.locator(".revision-note")).to_contain_text("Patients keep seeing the live version")
    page.get_by_label("Summary").fill("Usually fine together. Ibuprofen can upset your stomach, so take it with food.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("Patients still see the live version")
    expect(page.locator(".revision-state")).to_have_text("Waiting for approval")
    expect(page.locator(".revision-fields")).to_contain_text("take it with food")
    expect(page.get_by_role("button", name="Approve: make it live")).to_have_count(0)
    rule.refresh_from_db()
    assert rule.summary.startswith("Both are usually fine together.")

    reviewer_context = browser.new_context(viewport=DESKTOP)
    try:
        reviewer_page = reviewer_context.new_page()
        log = BrowserLog().attach(reviewer_page)
        # A TOTP code is good once: let this second sign-in stand for one a time step later.
        TOTPDevice.objects.filter(user=reviewer).update(last_t=-1)
        sign_in(reviewer_page, base, reviewer)
        reviewer_page.locator("#review-queue").get_by_role("link", name=re.compile(re.escape(RULE_TITLE))).click()
        expect(reviewer_page.locator("#patient-impact")).to_be_visible()
        reviewer_page.screenshot(path=str(artifacts_dir / "admin-revision-review-1280.png"), full_page=True)
        reviewer_page.get_by_role("button", name="Approve: make it live").click()
        expect(reviewer_page.locator(".messagelist")).to_contain_text("approved: it is live now")
        log.assert_clean(base)
    finally:
        reviewer_context.close()
    rule.refresh_from_db()
    assert rule.summary.endswith("so take it with food.")
    assert (rule.status, rule.reviewed_by) == (Status.PUBLISHED, reviewer)


def test_an_editors_attempt_to_publish_is_refused(live_server, page: Page, seeded):
    editor = make_staff("edna-editor", EDITOR_GROUP)
    a = Medication.objects.create(name="Testamine", slug="testamine")
    b = Medication.objects.create(name="Otheramine", slug="otheramine")
    rule = Interaction.objects.create(
        slug="testamine-otheramine",
        title="Testamine and otheramine",
        medication_a=a,
        medication_b=b,
        severity="minor",
        summary="Fine.",
        action="Ask.",
        evidence="theoretical",
        status=Status.IN_REVIEW,
        author=editor,
    )
    rule.references.add(Reference.objects.first())
    base = live_server.url
    sign_in(page, base, editor)

    # No button, no bulk action ...
    page.goto(base + reverse("admin:interactions_interaction_change", args=[rule.pk]))
    expect(page.locator(".workflow-panel .status-label")).to_have_text("In review")
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    page.goto(base + reverse("admin:interactions_interaction_changelist"))
    actions = page.locator("select[name=action] option")
    expect(actions.filter(has_text="Submit selected for review")).to_have_count(1)
    expect(actions.filter(has_text="Approve and publish selected")).to_have_count(0)

    # ... and a hand-made POST from the signed-in browser is refused by the server.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    workflow_url = base + reverse("admin:interactions_interaction_workflow", args=[rule.pk])
    response = page.request.post(
        workflow_url, form={"transition": "publish", "csrfmiddlewaretoken": csrf}, headers={"Referer": workflow_url}
    )
    assert response.status == 403
    bulk = page.request.post(
        base + reverse("admin:interactions_interaction_changelist"),
        form={"action": "publish_selected", "_selected_action": str(rule.pk), "csrfmiddlewaretoken": csrf},
        headers={"Referer": workflow_url},
    )
    assert bulk.ok
    rule.refresh_from_db()
    assert rule.status == Status.IN_REVIEW


def test_the_article_editor_previews_markdown_as_you_type(live_server, page: Page, seeded, artifacts_dir):
    editor = make_staff("edna-editor", EDITOR_GROUP)
    article = Article.objects.create(
        title="A draft guide", slug="a-draft-guide", topic="Tests", summary="Short.", body="Hello.", author=editor
    )
    base = live_server.url
    page.set_viewport_size(DESKTOP)
    log = BrowserLog().attach(page)
    sign_in(page, base, editor)
    page.goto(base + reverse("admin:education_article_change", args=[article.pk]))
    pane = page.locator("#markdown-preview")
    expect(pane).to_contain_text("Hello.")
    with page.expect_response(lambda r: r.url.endswith("/markdown-preview/")) as previewed:
        page.locator("#id_body").fill("## Before you start\n\n- Take it with food.\n\n<script>alert(1)</script>")
    assert previewed.value.ok
    expect(pane.get_by_role("heading", name="Before you start")).to_be_visible()
    expect(pane.locator("li")).to_have_text("Take it with food.")
    expect(pane).to_contain_text("Reading level: grade")
    expect(pane.locator("script")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "admin-markdown-preview-1280.png"), full_page=True)
    log.assert_clean(base)
