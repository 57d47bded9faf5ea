from django.urls import path

from interactions import views

app_name = "interactions"

urlpatterns = [
    path("", views.home, name="home"),
    path("medications/", views.medication_search, name="medication_search"),
    path("medications/<slug:slug>/", views.medication_detail, name="medication"),
    path("api/v1/medications", views.api_medications, name="api_medications"),
    path("api/v1/check", views.api_check, name="api_check"),
    path("api/v1/openapi.json", views.api_openapi, name="api_openapi"),
]
