from django.urls import path

from interactions import api, check_views, views

app_name = "interactions"

urlpatterns = [
    path("", check_views.check_page, name="home"),
    path("check/", check_views.check_page, name="check"),
    path("check/add/", check_views.add, name="check_add"),
    path("check/suggest/", check_views.suggest, name="check_suggest"),
    path("check/remove/", check_views.remove, name="check_remove"),
    path("check/dose/", check_views.change_dose, name="check_dose"),
    path("check/clear/", check_views.clear, name="check_clear"),
    path("check/print/", check_views.print_view, name="check_print"),
    path("medications/", views.medication_search, name="medication_search"),
    path("covered/", views.covered_medications, name="covered"),
    path("medications/<slug:slug>/", views.medication_detail, name="medication"),
    path("api/v1/medications", api.api_medications, name="api_medications"),
    path("api/v1/check", api.api_check, name="api_check"),
    path("api/v1/openapi.json", api.api_openapi, name="api_openapi"),
]
