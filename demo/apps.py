from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data of `make run`: it walks every app, so it sits above them all."""

    name = "demo"
    verbose_name = "Demo data"
