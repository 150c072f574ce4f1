"""Roles: the fixed Django groups a user belongs to.

A role alone never grants access to a case; the case scope each role sees is in
:mod:`fund.case_scope`. This module knows no model of the foundation, so every app may ask it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


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
