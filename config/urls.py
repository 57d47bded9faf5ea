from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("interactions.urls")),
    path("learn/", include("education.urls")),
    path("admin/", admin.site.urls),
]
