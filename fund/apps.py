from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def _sqlite_secure_delete(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Overwrite freed pages, so an erased person's key does not linger in the file."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")


def _case_trail_refs(reference: str) -> list[str] | None:
    """A case's trail: the events of the case and of its person."""
    from fund.models import Application

    found = Application.objects.filter(reference=reference).select_related("beneficiary").first()
    if found is None:
        return None
    return [found.reference, found.beneficiary.reference]


class FundConfig(AppConfig):
    name = "fund"
    verbose_name = _("Funds and applications")

    def ready(self) -> None:
        connection_created.connect(_sqlite_secure_delete, dispatch_uid="fund_sqlite_secure_delete")
        self._audit_fund_changes()
        from audit.signing import register_signing_data_probe
        from core.crypto import register_data_probes
        from fund.key_safety import (
            audit_signing_data_exists,
            blind_indexes_exist,
            encrypted_data_exists,
        )

        register_data_probes(
            encrypted_data_exists=encrypted_data_exists, blind_indexes_exist=blind_indexes_exist
        )
        register_signing_data_probe(audit_signing_data_exists)
        from audit.exports import register_case_refs

        register_case_refs(_case_trail_refs)

    def _audit_fund_changes(self) -> None:
        """Who works in a fund and its rules are access and policy: every change is an event."""
        from django.db.models.signals import m2m_changed, post_save, pre_save

        from audit import receivers
        from fund.models import Fund

        uid = "audit."
        m2m_changed.connect(
            receivers.on_fund_handlers_changed,
            sender=Fund.handlers.through,
            dispatch_uid=uid + "fh",
        )
        pre_save.connect(receivers.before_fund_saved, sender=Fund, dispatch_uid=uid + "fund_pre")
        post_save.connect(receivers.on_fund_saved, sender=Fund, dispatch_uid=uid + "fund_post")
