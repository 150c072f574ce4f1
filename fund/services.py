"""Registry actions: verifying organisations and ombud (done out of band, recorded here)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from fund.models import Ombud, OmbudStatus, Organisation


def _administrator(actor: Any) -> None:
    if not has_role(actor, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only an administrator may verify organisations and ombud."))


def verify_organisation(organisation: Organisation, *, actor: Any, method: str) -> Organisation:
    """Record that the organisation was verified out of band, and how."""
    _administrator(actor)
    if not method.strip():
        raise ValidationFailed(_("Say how the organisation was verified."))
    with transaction.atomic():
        organisation.verified_at = timezone.now()
        organisation.verified_by = actor
        organisation.verification_method = method.strip()
        organisation.save(update_fields=["verified_at", "verified_by", "verification_method"])
        record_event(
            action="organisation.verified",
            actor=actor,
            role=Role.ADMINISTRATOR,
            object_type="organisation",
            object_ref=str(organisation.pk),
            payload={"verified": True},
        )
    return organisation


def set_ombud_status(ombud: Ombud, *, actor: Any, status: str, method: str = "") -> Ombud:
    """Verify or revoke an ombud; a verified ombud needs a verified organisation."""
    _administrator(actor)
    if status not in OmbudStatus.values:
        raise ValidationFailed(_("Unknown ombud status."))
    if status == OmbudStatus.VERIFIED:
        if not ombud.organisation.is_verified:
            raise ValidationFailed(_("Verify the ombud's organisation first."))
        if not method.strip():
            raise ValidationFailed(_("Say how the ombud was verified."))
    with transaction.atomic():
        ombud.status = status
        if status == OmbudStatus.VERIFIED:
            ombud.verified_at = timezone.now()
            ombud.verified_by = actor
            ombud.verification_method = method.strip()
        ombud.save()
        record_event(
            action=f"ombud.{status}",
            actor=actor,
            role=Role.ADMINISTRATOR,
            object_type="ombud",
            object_ref=str(ombud.pk),
            payload={"organisation": ombud.organisation_id, "status": status},
        )
    return ombud
