"""Who may handle payouts: treasurers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from core.exceptions import PermissionDenied
from core.roles import Role, has_role


def require_treasurer(*, actor: Any) -> None:
    if not has_role(actor, Role.TREASURER):
        raise PermissionDenied(_("Only a treasurer may handle payouts."))
