"""Whatever staff type, no script or foreign markup reaches a page."""

from html.parser import HTMLParser

import pytest

from education.markdown import ALLOWED_TAGS, render_article


class ElementCollector(HTMLParser):
    """The real elements and attributes in a piece of HTML (escaped text is not an element)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    collector = ElementCollector()
    collector.feed(html)
    return collector.elements


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox)",
    '<svg onload="alert(1)"><circle/></svg>',
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example"></iframe>',
    "<object data=x></object><embed src=x>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "[x](&#106;avascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    '<div style="position:fixed">x</div>',
    "<form action=/check/clear/ method=post><button>x</button></form>",
    "</div></article><h1>fake</h1>",
    "![img](https://evil.example/track.png)",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_markup_never_survives(body):
    html = render_article(f"Intro.\n\n{body}\n\nEnd.").html
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS and tag != "h1", html
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", html
            if name == "href":
                assert value.split(":", 1)[0].lower() in {"http", "https", "mailto", "tel"} or ":" not in value, html
    assert "</article" not in html.lower() and "<script" not in html.lower()


def test_ordinary_markdown_renders():
    result = render_article("## What it is\n\nSome **bold** text and a [link](https://www.fda.gov/).\n\n- one\n- two\n")
    assert '<h2 id="what-it-is">What it is</h2>' in result.html
    assert "<strong>bold</strong>" in result.html
    assert "<li>one</li>" in result.html


def test_external_links_are_marked_and_do_not_leak_the_referrer():
    html = render_article("[FDA](https://www.fda.gov/)").html
    assert 'class="external"' in html
    assert 'rel="noopener noreferrer"' in html


def test_a_protocol_relative_link_is_marked_external_too():
    html = render_article("[x](//evil.example/x)").html
    assert 'class="external"' in html
    assert 'rel="noopener noreferrer"' in html
    assert "[x]" not in html


def test_a_link_within_the_site_is_not_external():
    html = render_article("[Kratom](/learn/kratom/)").html
    assert 'class="external"' not in html


def test_long_pieces_get_a_table_of_contents():
    body = "\n\n".join(f"## Part {n}\n\nText for part {n}." for n in range(1, 5))
    result = render_article(body)
    assert 'href="#part-1"' in result.toc_html
    assert render_article("## Only one\n\nShort.").toc_html == ""


def test_reading_grade_and_word_count_are_measured():
    easy = render_article("The cat sat. It was warm. We had fun.")
    hard = render_article(
        "Pharmacokinetic considerations notwithstanding, concomitant administration necessitates individualized "
        "therapeutic monitoring, particularly regarding cytochrome-mediated biotransformation."
    )
    assert easy.reading_grade < 3 < hard.reading_grade
    assert easy.word_count == 9
