"""Markdown to sanitised HTML, a table of contents and a reading grade, done once on save."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal

import markdown
import nh3

from core.readability import rounded_grade

ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "span",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "span": {"class"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
TOC_MIN_HEADINGS = 3

_TAG = re.compile(r"<[^>]+>")
# Another site: a scheme (https://) or protocol-relative (//evil.example), which browsers read as one.
_EXTERNAL_LINK = re.compile(r'<a href="((?:https?:)?//[^"]+)"')


@dataclass(frozen=True)
class RenderedArticle:
    html: str
    toc_html: str
    plain_text: str
    reading_grade: Decimal
    word_count: int


def sanitize(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def _mark_external_links(safe_html: str) -> str:
    return _EXTERNAL_LINK.sub(r'<a class="external" rel="noopener noreferrer" href="\1"', safe_html)


def plain_text(safe_html: str) -> str:
    return html.unescape(_TAG.sub(" ", safe_html))


def render_article(body: str) -> RenderedArticle:
    md = markdown.Markdown(
        extensions=["toc", "tables", "sane_lists"],
        extension_configs={"toc": {"toc_depth": "2-3", "permalink": False}},
    )
    # Escape "<" before Markdown sees it, so typed HTML shows as text; nh3 then allows only our tags.
    converted = md.convert(body.replace("<", "&lt;"))
    safe_html = _mark_external_links(sanitize(converted))
    toc = sanitize(md.toc) if len(_flatten(md.toc_tokens)) >= TOC_MIN_HEADINGS else ""
    text = plain_text(safe_html)
    return RenderedArticle(
        html=safe_html,
        toc_html=toc,
        plain_text=text,
        reading_grade=rounded_grade(text),
        word_count=len(text.split()),
    )


def _flatten(tokens: list[dict]) -> list[dict]:
    flat = []
    for token in tokens:
        flat.append(token)
        flat.extend(_flatten(token.get("children", [])))
    return flat
