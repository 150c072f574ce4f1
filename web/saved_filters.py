"""Saving, listing and deleting a user's worklist filters.

A filter is the user's own preference, not case data: it is neither audited nor shared.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from core.exceptions import PermissionDenied, ValidationFailed
from core.roles import Role, has_role
from web.forms import WorklistFilterForm
from web.models import SavedFilter

#: The most filters one user keeps.
MAX_SAVED_FILTERS = 30


def known_filter_query(query: str) -> str:
    """The query string with the known filter parameters only, in a fixed order."""
    given = QueryDict(query.lstrip("?"))
    kept = QueryDict(mutable=True)
    for name in WorklistFilterForm.SAVED:
        value = given.get(name, "").strip()
        if value and len(value) <= 40 and value.isprintable():
            kept[name] = value
    return kept.urlencode()


def saved_filters(user: Any) -> QuerySet[SavedFilter]:
    """The user's own filters, by name."""
    return SavedFilter.objects.filter(user_id=user.pk).order_by("name", "pk")


def save_filter(*, actor: Any, name: str, query: str) -> SavedFilter:
    """Save (or replace, under the same name) the actor's filter."""
    if not (has_role(actor, Role.OFFICER) or has_role(actor, Role.DECISION_MAKER)):
        raise PermissionDenied(_("Only officers and decision-makers keep worklist filters."))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("Give the filter a name."))
    if len(name) > 80:
        raise ValidationFailed(_("A filter's name is at most 80 characters."))
    with transaction.atomic():
        existing = saved_filters(actor).select_for_update().filter(name=name).first()
        if existing is None and saved_filters(actor).count() >= MAX_SAVED_FILTERS:
            raise ValidationFailed(
                _("You have %(n)s saved filters already: delete one before saving another.")
                % {"n": MAX_SAVED_FILTERS}
            )
        saved, _created = SavedFilter.objects.update_or_create(
            user=actor, name=name, defaults={"query": known_filter_query(query)}
        )
    return saved


def delete_filter(saved: SavedFilter, *, actor: Any) -> None:
    """Delete one of the actor's own filters; another's is refused."""
    if saved.user_id != actor.pk:
        raise PermissionDenied(_("That filter is not yours."))
    saved.delete()
