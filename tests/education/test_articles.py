import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from education.models import Article
from interactions.models import Status

pytestmark = pytest.mark.django_db
LIST = reverse("education:article_list")
SEED_SLUGS = {
    "low-dose-naltrexone-vs-standard-naltrexone",
    "feeling-flat-or-depressed-on-naltrexone",
    "precipitated-withdrawal",
    "naltrexone-and-antidepressants",
    "antidepressant-side-effects-and-stopping-safely",
    "after-naltrexone-overdose-risk",
    "kratom",
    "serotonin-syndrome",
}


def test_every_seed_article_is_published_with_sources_and_the_right_length():
    articles = Article.objects.published()
    assert {a.slug for a in articles} >= SEED_SLUGS
    for article in articles:
        assert 500 <= article.word_count <= 1200, (article.slug, article.word_count)
        assert article.references.exists(), article.slug
        assert article.reviewed_on and article.next_review_due


def test_published_patient_articles_read_at_grade_8_or_below():
    for article in Article.objects.published().filter(audience="patients"):
        assert article.reading_grade <= 8, (article.slug, article.reading_grade)


def test_the_library_groups_articles_by_topic(client):
    html = client.get(LIST).content.decode()
    assert "<h2" in html and "Naltrexone" in html and "Opioids and kratom" in html
    for slug in SEED_SLUGS:
        assert f'href="/learn/{slug}/"' in html


def test_the_filter_works_as_a_plain_get(client):
    html = client.get(LIST, {"q": "kratom"}).content.decode()
    assert "<html" in html
    assert 'href="/learn/kratom/"' in html
    assert 'href="/learn/serotonin-syndrome/"' not in html


def test_the_filter_returns_only_the_results_partial_for_htmx(client):
    response = client.get(LIST, {"q": "serotonin"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="article-results"')
    assert 'href="/learn/serotonin-syndrome/"' in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("q", ["x" * 10_000, "'; DROP TABLE x; --", "💊", "%", "_", "\x00", "kra\x00tom"])
def test_odd_filters_never_fail(client, q):
    assert client.get(LIST, {"q": q}).status_code == 200


def test_an_article_page_shows_body_review_line_sources_and_links(client):
    html = client.get(reverse("education:article", args=["kratom"])).content.decode()
    assert "Reviewed by the MedWise clinical content team on" in html and "Next review due" in html
    sources = html[html.index('<h2 id="sources-heading">') :]
    assert "<ol><li>Jarka C, Gregoire K. Precipitated withdrawal with kratom use" in sources
    assert 'href="/medications/kratom/"' in html
    assert 'name="pick" value="kratom"' in html  # one click adds it to the list
    assert "Related interactions" in html
    assert 'href="/check/"' in html


def test_drafts_are_invisible_to_the_public(client):
    Article.objects.filter(slug="kratom").update(status=Status.DRAFT)
    assert client.get(reverse("education:article", args=["kratom"])).status_code == 404
    assert 'href="/learn/kratom/"' not in client.get(LIST).content.decode()


def test_drafts_are_visible_to_staff_with_a_banner(client, django_user_model):
    Article.objects.filter(slug="kratom").update(status=Status.IN_REVIEW)
    staff = django_user_model.objects.create_user("editor", password="a-long-password-1", is_staff=True)
    client.force_login(staff)
    html = client.get(reverse("education:article", args=["kratom"])).content.decode()
    assert "DRAFT" in html


def test_unknown_articles_are_404(client):
    assert client.get(reverse("education:article", args=["nope"])).status_code == 404


def test_medication_pages_link_to_their_articles(client):
    html = client.get(reverse("interactions:medication", args=["naltrexone"])).content.decode()
    assert 'href="/learn/low-dose-naltrexone-vs-standard-naltrexone/"' in html


def test_findings_link_to_their_articles(client):
    from interactions.checker import CheckEntry, check

    finding = check([CheckEntry("phenelzine"), CheckEntry("sertraline")]).findings[0]
    assert "serotonin-syndrome" in [a.slug for a in finding.articles]


def test_saving_renders_the_body_once(django_user_model):
    article = Article.objects.create(title="T", slug="t", topic="x", summary="s", body="## Hi\n\nThere <b>x</b>")
    assert '<h2 id="hi">Hi</h2>' in article.body_html
    assert "<b>" not in article.body_html


def test_the_article_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    # The content version, then the article, its references, medicines, groups and rules.
    with django_assert_num_queries(6):
        client.get(reverse("education:article", args=["kratom"]))


def linked_guides(html: str) -> set[str]:
    return set(re.findall(r'href="/learn/([a-z0-9-]+)/"', html))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "guide"),
    [
        ("zoloft", "antidepressant-side-effects-and-stopping-safely"),
        ("zoloft 50 mg", "serotonin-syndrome"),
        # A combination product finds the guides about what is inside it (buprenorphine).
        ("suboxone", "precipitated-withdrawal"),
        ("Suboxone 8/2", "precipitated-withdrawal"),
        ("vivitrol", "kratom"),
    ],
)
def test_guides_find_brands_through_the_search_service(client, typed, guide):
    html = client.get("/learn/", {"q": typed}).content.decode()
    # The brand is not in these guides' text: only the search service can connect the two.
    assert typed.split()[0].lower() not in Article.objects.get(slug=guide).body.lower()
    assert guide in linked_guides(html)


@pytest.mark.django_db
def test_a_brand_finds_only_guides_about_that_medicine(client):
    found = linked_guides(client.get("/learn/", {"q": "zoloft"}).content.decode())
    assert found and "precipitated-withdrawal" not in found
    assert not linked_guides(client.get("/learn/", {"q": "xyzzy"}).content.decode())


def test_a_guides_source_links_are_marked_as_leaving_the_site_and_a_findings_are_not(client):
    article = Article.objects.published().filter(references__url__gt="").distinct().first()
    assert article is not None
    html = client.get(article.get_absolute_url()).content.decode()
    sources = html[html.index('id="sources-heading"') :]
    links = re.findall(r'<a href="https?://[^"]+" rel="noopener noreferrer"( class="external")?>', sources)
    assert links and all(links)
    check_card = Template('{% include "includes/sources.html#sources" %}').render(
        Context({"references": [r for r in article.references.all() if r.link]})
    )
    assert 'rel="noopener noreferrer">' in check_card and "external" not in check_card
