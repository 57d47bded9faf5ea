from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Only for `manage.py bench`: no models, no URLs in the site."""

    name = "bench"
    verbose_name = "Benchmarks"
