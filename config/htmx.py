from django.http import HttpRequest


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """The whole page, or only its named partial when htmx asks (`template#partial`)."""
    return f"{template}#{partial}" if request.htmx else template
