from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from education.models import Article


@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    articles = Article.objects.published()
    return render(request, "education/article_list.html", {"articles": articles})


@require_GET
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = Article.objects.filter(slug=slug).first()
    if article is None or (article.status != "published" and not request.user.is_staff):
        raise Http404
    return render(request, "education/article_detail.html", {"article": article})
