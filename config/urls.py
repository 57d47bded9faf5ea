from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from core import views

urlpatterns = [
    path("", include("interactions.urls")),
    path("learn/", include("education.urls")),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
