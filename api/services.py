"""The API's own writes: tokens, and a new case for a new person in one transaction.

Everything else the API changes goes through ``workflows.services`` and
``accounting.payouts``, the same functions the pages call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from api.models import ApiToken, new_token
from audit.services import record_event
from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role, roles_of
from fund.models import Application, Beneficiary, Fund, Ombud
from workflows import services
from workflows.services import NeedInput


def issue_token(
    user: Any, *, label: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``; the plain token is returned once and never stored."""
    if not user.is_active or not roles_of(user):
        raise ValidationFailed(_("Only an active user with a role can have an API token."))
    label = label.strip()
    if not label:
        raise ValidationFailed(_("Say what the token is for."))
    prefix, token = new_token()
    with transaction.atomic():
        api_token = ApiToken.objects.create(
            user=user,
            label=label[:60],
            prefix=prefix,
            digest=ApiToken.digest_of(token),
            expires_at=expires_at,
        )
        record_event(
            action="api.token_issued",
            actor=user,
            object_type="api_token",
            object_ref=prefix,
            payload={"token": api_token.pk, "user": user.pk, "expires": bool(expires_at)},
        )
    return api_token, token


def revoke_token(api_token: ApiToken, *, actor: Any = None) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=api_token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_event(
                action="api.token_revoked",
                actor=actor,
                object_type="api_token",
                object_ref=token.prefix,
                payload={"token": token.pk, "user": token.user_id},
            )
    return token


@sensitive_variables()
def apply_for(
    *,
    actor: Any,
    fund: Fund,
    items: Sequence[NeedInput],
    person: Mapping[str, Any] | None = None,
    beneficiary: Beneficiary | None = None,
    ombud_id: int | None = None,
) -> Application:
    """Register the person (when new) and create the draft application, atomically.

    ``ombud_id`` is the ombud an officer names (an ombud applies in their own name)."""
    if (person is None) == (beneficiary is None):
        raise ValidationFailed(_("Give either a new person or an existing person's reference."))
    if Role.OMBUD not in roles_of(actor) and Role.OFFICER not in roles_of(actor):
        raise PermissionDenied(
            _("Only an ombud, or an officer working in this fund, may create an application.")
        )
    ombud = ombud_named(ombud_id, actor=actor, fund=fund) if ombud_id is not None else None
    with transaction.atomic():
        if beneficiary is None:  # then a new person is given (checked above)
            beneficiary = services.register_beneficiary(actor=actor, **(person or {}))
        return services.create_application(
            actor=actor, fund=fund, beneficiary=beneficiary, items=items, ombud=ombud
        )


#: The largest id a database integer column holds; larger ones exist nowhere.
LARGEST_ID = 2**63 - 1


def ombud_named(ombud_id: int, *, actor: Any, fund: Fund) -> Ombud:
    """The ombud ``actor`` names for a new case, or one refusal for every id they may not
    use — one that does not exist, is revoked, pending, at an unverified organisation, or
    (for an ombud) anyone but themselves — so the answer tells no one which ids exist.

    An officer must work in the fund first: otherwise the refusal of the fund, the same for
    every id, comes before any ombud is looked up.
    """
    is_ombud = has_role(actor, Role.OMBUD) and getattr(actor, "ombud", None) is not None
    if not is_ombud and not fund.handlers.filter(pk=actor.pk).exists():
        raise PermissionDenied(
            _("Only an ombud, or an officer working in this fund, may create an application.")
        )
    ombud = None
    if 0 < ombud_id <= LARGEST_ID:
        ombud = Ombud.objects.select_related("organisation").filter(pk=ombud_id).first()
    # An officer names an ombud verified at a verified organisation; an ombud only themselves.
    if ombud is None or not (ombud.pk == actor.ombud.pk if is_ombud else ombud.may_attest):
        raise ValidationFailed(_("You cannot name this ombud for a new application."))
    return ombud
