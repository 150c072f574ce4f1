"""The case scope each role sees.

A role alone never grants access to a case: an ombud acts only on the applications they
submitted or attest, officers and decision-makers only in the funds they are assigned to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.roles import Role, has_role

if TYPE_CHECKING:
    from fund.models import Application


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
