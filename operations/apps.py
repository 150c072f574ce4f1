from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the system: the production checks (and, next, backups and health)."""

    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from operations.metrics import start_counting

        start_counting()
