"""`{% kept %}…{% endkept %}`: markup that is the same on every request, rendered once per process.

A page's shell (the head, the site header and footer, a form) is the same for every visitor in a
language, except for the CSRF token its forms carry. `{% kept %}` renders what it wraps once, with a
slot where the token goes, and fills the slot on each request: the token is never kept.

What the markup depends on besides the language, the URL prefix and the settings is named after the
tag, and each distinct value is kept apart: `{% kept entry UNSURE %}`. Only markup made from content
and settings may be kept, never a person's list: a list entry's row may be (the same medicine at
the same dose looks the same for everyone), a list may not. A `{% block %}` inside is refused,
because a child template would change what is kept.

`{% kept for entry in report.entries entry UNSURE %}…{% endkept %}` is `{% for %}` around a kept
row, without the loop's own work for each row (there is no `forloop` inside): each item's row is
kept apart by the values named after the sequence, read with the item in place.

With settings.KEPT_FRAGMENTS_VERIFY (on in the tests), every use is also rendered afresh and
compared, so markup that depends on something not named fails the test that renders it.
"""

from __future__ import annotations

from collections.abc import Callable

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

# Stands in for the CSRF token while a fragment is rendered to be kept: nothing escapes or changes it.
CSRF_SLOT = "medwise-kept-csrf-slot-5c1e"
# Distinct values kept per use (entries of many lists); past it, that use starts again.
MAX_VARIANTS = 2_000


class KeptFragmentMismatch(AssertionError):
    """A kept fragment differed from a fresh render: it depends on something its tag does not name."""


_generation = 0


def _settings_changed(**kwargs) -> None:
    # A test's override_settings changes what a fragment renders (static URLs, phone numbers).
    global _generation
    _generation += 1


setting_changed.connect(_settings_changed, dispatch_uid="kept-fragments")


class KeptNode(template.Node):
    # A kept fragment holds no {% block %} (refused below), so {% extends %}, which looks for the
    # blocks of a page on every render, need not walk through the markup inside it.
    child_nodelists = ()

    def __init__(
        self,
        nodelist: template.NodeList,
        varies: list[template.base.FilterExpression],
        loop: tuple[str, template.base.FilterExpression] | None = None,
    ) -> None:
        self.nodelist = nodelist
        self.varies = [_reader(value) for value in varies]
        self.loop = loop
        self._generation = _generation
        self._kept: dict[tuple, tuple[str, ...]] = {}

    def render(self, context: template.Context) -> str:
        if self.loop is None:
            return self._render_kept(context)
        name, sequence = self.loop
        rows = []
        with context.push():
            for item in sequence.resolve(context, ignore_failures=True) or ():
                context[name] = item
                rows.append(self._render_kept(context))
        return SafeString("".join(rows))

    def _render_kept(self, context: template.Context) -> str:
        if self._generation != _generation:
            self._kept, self._generation = {}, _generation
        env, verify = _environment(context)
        has_token = env[-1]
        key = (*env, *(read(context) for read in self.varies)) if self.varies else env
        parts = self._kept.get(key)
        if parts is None:
            if len(self._kept) >= MAX_VARIANTS:
                self._kept.clear()
            parts = self._kept[key] = self._render_parts(context, has_token)
        if len(parts) == 1:
            html = parts[0]  # as NodeList.render() made it: already safe
        else:
            token = _token(context)
            if token is None:
                return self.nodelist.render(context)
            html = SafeString(token.join(parts))  # rendered by the template; the token escaped as it would be
        if verify:
            self._verify(context, html)
        return html

    def _render_parts(self, context: template.Context, has_token: bool) -> tuple[str, ...]:
        if not has_token:
            return (self.nodelist.render(context),)
        with context.push(csrf_token=SafeString(CSRF_SLOT)):
            html = self.nodelist.render(context)
        parts = tuple(html.split(CSRF_SLOT))
        return parts if len(parts) > 1 else (html,)

    def _verify(self, context: template.Context, html: str) -> None:
        fresh = self.nodelist.render(context)
        if fresh != html:
            where = f"{self.origin.name}, line {self.token.lineno}"
            raise KeptFragmentMismatch(
                f"The {{% kept %}} at {where} kept markup that differs from a fresh render: name what it "
                f"depends on after the tag.\nkept:  {html[:500]!r}\nfresh: {fresh[:500]!r}"
            )


def _environment(context: template.Context) -> tuple[tuple, bool]:
    """What every fragment in this render depends on: the language, the URL prefix and URLconf (for
    routes), and whether there is a CSRF token; and whether fragments are verified. Read once a
    render, on the context (a page has dozens of fragments, and each of these is a thread-local or
    settings read); `context.new()` copies it along."""
    memo = getattr(context, "_kept_environment", None)
    if memo is None:
        env = (get_language(), get_script_prefix(), get_urlconf(), "csrf_token" in context)
        memo = context._kept_environment = (env, settings.KEPT_FRAGMENTS_VERIFY)
    return memo


_MISSING = object()


def _reader(value: template.base.FilterExpression) -> Callable[[template.Context], object]:
    """How a value named after the tag is read on each render.

    A plain dotted name (`message.title`) through objects that are neither containers nor callables
    is read with getattr(), which is what Django's lookup ends with: its failed item lookup first
    raises an exception at every step, and a row keyed on four fields is read a dozen times a page.
    Anything else, or anything unexpected on the way, is read by the template engine itself.
    """
    var = value.var
    if value.filters or not isinstance(var, template.Variable) or var.lookups is None or var.translate:
        return value.resolve
    name, *attributes = var.lookups

    def read(context: template.Context) -> object:
        try:
            current = context[name]
        except KeyError:
            return value.resolve(context)
        for attribute in attributes:
            if callable(current) or hasattr(type(current), "__getitem__"):
                return value.resolve(context)
            current = getattr(current, attribute, _MISSING)
            if current is _MISSING:
                return value.resolve(context)
        return value.resolve(context) if callable(current) else current

    return read


def _token(context: template.Context) -> str | None:
    """The CSRF token escaped as a template escapes it, or None without CSRF middleware (the csrf_token
    tag then renders nothing). Worked out once a render, for the token the context holds now."""
    token = context["csrf_token"]
    memo = getattr(context, "_kept_token", None)
    if memo is None or memo[0] is not token:
        escaped = None if not token or token == "NOTPROVIDED" else conditional_escape(token)  # noqa: S105
        memo = context._kept_token = (token, escaped)
    return memo[1]


@register.tag
def kept(parser: template.base.Parser, token: template.base.Token) -> KeptNode:
    if any(command == "language" for command, *_rest in parser.command_stack):
        # The language is read once a render (_environment), so a {% language %} block would be missed.
        raise template.TemplateSyntaxError("{% kept %} cannot be inside {% language %}.")
    bits, loop = token.split_contents()[1:], None
    if bits and bits[0] == "for":
        if len(bits) < 4 or bits[2] != "in":
            raise template.TemplateSyntaxError("{% kept for %} reads: {% kept for item in sequence [value ...] %}.")
        loop, bits = (bits[1], parser.compile_filter(bits[3])), bits[4:]
    varies = [parser.compile_filter(bit) for bit in bits]
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% kept %} cannot hold a {% block %}: a child template would change it.")
    return KeptNode(nodelist, varies, loop)
