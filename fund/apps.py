from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def _sqlite_secure_delete(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Overwrite freed pages, so an erased person's key does not linger in the file."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")


class FundConfig(AppConfig):
    name = "fund"
    verbose_name = _("Funds and applications")

    def ready(self) -> None:
        connection_created.connect(_sqlite_secure_delete, dispatch_uid="fund_sqlite_secure_delete")
