"""The project's own start-up: owner-only files (core/file_modes.py)."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created


class FundflowConfig(AppConfig):
    name = "config"
    label = "fundflow_config"
    verbose_name = "Fundflow configuration"

    def ready(self) -> None:
        from core.file_modes import restrict_sqlite_file, secure_embedded_folders

        connection_created.connect(restrict_sqlite_file, dispatch_uid="fundflow-sqlite-0600")
        if settings.EMBEDDED_MODE:
            secure_embedded_folders()
