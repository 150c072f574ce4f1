from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the system: production checks, backups, restore drills, key canaries, health."""

    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from operations.metrics import start_counting

        start_counting()
