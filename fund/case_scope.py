"""The case scope each role sees.

A role alone never grants access to a case: an ombud acts only on the applications they
submitted or attest, officers and decision-makers only in the funds they are assigned to.

Within :func:`scope_read_once` (one transition, one page's buttons) the actor's funds and ombud
status are read from the database once and reused for every check of that round; outside it,
and in the next round, they are read again, so a removed membership or a revoked ombud counts
from the next step on, whatever user object is passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from core.roles import Role, has_role

if TYPE_CHECKING:
    from fund.models import Application

_ROUND = "_fundflow_scope_round"


class _ScopeReads:
    """What one round of checks has read about its actor (each read at most once)."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self._fund_ids: frozenset[int] | None = None
        self._ombud_ids: frozenset[int] | None = None

    def fund_ids(self) -> frozenset[int]:
        if self._fund_ids is None:
            self._fund_ids = _handled_fund_ids(self.user)
        return self._fund_ids

    def ombud_ids(self) -> frozenset[int]:
        if self._ombud_ids is None:
            self._ombud_ids = _active_ombud_ids(self.user)
        return self._ombud_ids


@contextmanager
def scope_read_once(user: Any) -> Iterator[None]:
    """Read the actor's funds and ombud status at most once for the checks inside the block.

    The reads live on this user object for the block only: a transition or a page that checks
    many steps pays one query each, and the next one reads them again.
    """
    if user is None or getattr(user, _ROUND, None) is not None:  # nested: the outer round holds
        yield
        return
    setattr(user, _ROUND, _ScopeReads(user))
    try:
        yield
    finally:
        delattr(user, _ROUND)


def _round(user: Any) -> _ScopeReads | None:
    return getattr(user, _ROUND, None)


def _handled_fund_ids(user: Any) -> frozenset[int]:
    from fund.models import Fund

    if getattr(user, "pk", None) is None:
        return frozenset()
    return frozenset(
        Fund.handlers.through.objects.filter(user_id=user.pk).values_list("fund_id", flat=True)
    )


def _active_ombud_ids(user: Any) -> frozenset[int]:
    from fund.models import Ombud, OmbudStatus

    if getattr(user, "pk", None) is None:
        return frozenset()
    return frozenset(
        Ombud.objects.filter(user_id=user.pk)
        .exclude(status=OmbudStatus.REVOKED)
        .values_list("pk", flat=True)
    )


def is_case_ombud(user: Any, application: Application) -> bool:
    """The case's ombud, unless revoked: revocation ends the case scope at once.

    The status is read from the database, not from the (possibly cached) ``user.ombud``, so a
    revocation made by another request counts from the moment it commits.
    """
    reads = _round(user)
    if reads is not None:
        return application.ombud_id in reads.ombud_ids()
    return application.ombud_id in _active_ombud_ids(user)


def works_in_fund(user: Any, application: Application) -> bool:
    reads = _round(user)
    if reads is not None:
        return application.fund_id in reads.fund_ids()
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
