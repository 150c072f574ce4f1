"""Roles (Django groups) and the case scope each role sees.

A role alone never grants access to a case: an ombud acts only on the applications they
submitted or attest, officers and decision-makers only in the funds they are assigned to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from fund.models import Application


class Role(models.TextChoices):
    OMBUD = "ombud", _("Ombud")
    OFFICER = "officer", _("Officer (handläggare)")
    DECISION_MAKER = "decision_maker", _("Decision-maker (beslutsfattare)")
    TREASURER = "treasurer", _("Treasurer (kassör)")
    AUDITOR = "auditor", _("Auditor (revisor)")
    ADMINISTRATOR = "administrator", _("Administrator")


def roles_of(user: Any) -> frozenset[str]:
    """The user's roles, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_fundflow_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._fundflow_roles = cached
    return cached


def has_role(user: Any, role: str) -> bool:
    return role in roles_of(user)


def is_case_ombud(user: Any, application: Application) -> bool:
    """The case's ombud, unless revoked: revocation ends the case scope at once.

    The status is read from the database, not from the (possibly cached) ``user.ombud``, so a
    revocation made by another request counts from the moment it commits.
    """
    from fund.models import Ombud, OmbudStatus

    ombud = getattr(user, "ombud", None)
    if ombud is None or application.ombud_id != ombud.pk:
        return False
    return Ombud.objects.filter(pk=ombud.pk).exclude(status=OmbudStatus.REVOKED).exists()


def works_in_fund(user: Any, application: Application) -> bool:
    return application.fund.handlers.filter(pk=user.pk).exists()


def may_act_as(user: Any, role: str, application: Application) -> bool:
    """The role check plus the case scope for that role."""
    if not has_role(user, role):
        return False
    if role == Role.OMBUD:
        return is_case_ombud(user, application)
    if role in (Role.OFFICER, Role.DECISION_MAKER):
        return works_in_fund(user, application)
    return True
