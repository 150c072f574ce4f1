"""Audit events beyond the workflow: failed logins, users, roles and permissions, fund rules.

Connected in :meth:`audit.apps.AuditConfig.ready`. Each receiver records inside the
transaction of the change where there is one (admin views, related managers' ``add``) and
opens its own otherwise. Payloads carry ids, role and permission codes, field names and
rule values — never a username, name or other personal value.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Model

from audit.context import current_actor, current_role
from audit.services import record_event

# ---------------------------------------------------------------------------------------
# Failed logins


def username_hash(username: str) -> str:
    """A keyed hash of the attempted username: repeated attempts correlate, names do not show.

    Keyed (the blind-index key), because usernames are few and guessable: a plain SHA-256
    could be reversed by trying them all.
    """
    from core.crypto import blind_index

    return blind_index("login:" + username.strip().lower())


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    from django.contrib.auth import get_user_model

    field = get_user_model().USERNAME_FIELD
    attempted = str(credentials.get(field) or credentials.get("username") or "")
    with transaction.atomic():
        record_event(
            action="auth.login_failed",
            object_type="user",
            payload={"username_hash": username_hash(attempted) if attempted else ""},
        )


# ---------------------------------------------------------------------------------------
# Roles and permissions (many-to-many changes)

_ACTIONS = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}


def _group_label(group: Group) -> str | int:
    """A role's group by its fixed role code; any other group by id.

    Other group names are typed by an administrator (``Handläggare Malmö``): free text,
    which never goes into the permanent log.
    """
    from core.roles import Role

    return group.name if group.name in Role.values else int(group.pk)


def _label(obj: Any) -> str | int:
    """How a related object appears in a payload: roles and permissions by code, others by id."""
    if isinstance(obj, Group):
        return _group_label(obj)
    if isinstance(obj, Permission):
        return f"{obj.content_type.app_label}.{obj.codename}"
    return int(obj.pk)


def _labels(model: type[Model], pks: Any) -> list[str | int]:
    if not pks:
        return []
    objects: Iterable[Model]
    if model is Permission:
        objects = Permission.objects.filter(pk__in=pks).select_related("content_type")
    elif model is Group:
        objects = Group.objects.filter(pk__in=pks)
    else:
        return sorted(int(pk) for pk in pks)
    return sorted((_label(obj) for obj in objects), key=str)


def _object(instance: Any) -> tuple[str, str]:
    if isinstance(instance, Group):
        return "group", str(_group_label(instance))
    if isinstance(instance, Permission):
        return "permission", str(_label(instance))
    return instance._meta.model_name, str(instance.pk)


def access_changed(
    action_name: str,
    *,
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    model: Any,
    pk_set: Any,
    **kw: Any,
) -> None:
    """Record who gained or lost which role, permission or fund (by id and code only)."""
    if action == "pre_clear":
        # The set is gone after the clear: remember it now.
        field = _field_name(sender, instance, reverse)
        instance._audit_cleared = list(getattr(instance, field).values_list("pk", flat=True))
        return
    change = _ACTIONS.get(action)
    if change is None:
        return
    if change == "cleared":
        pk_set = getattr(instance, "_audit_cleared", [])
    object_type, object_ref = _object(instance)
    actor = current_actor()
    with transaction.atomic():
        record_event(
            action=action_name,
            actor=actor,
            role=current_role(actor=actor),
            object_type=object_type,
            object_ref=object_ref,
            payload={"change": change, model._meta.model_name: _labels(model, pk_set)},
        )


def _field_name(through: Any, instance: Any, reverse: bool) -> str:
    """The related manager's attribute on ``instance`` for the m2m ``through``."""
    for field in instance._meta.get_fields():
        if not getattr(field, "many_to_many", False):
            continue
        if field.auto_created:  # the reverse side: a ManyToManyRel, e.g. ``group.user_set``
            if getattr(field, "through", None) is through:
                return str(field.get_accessor_name())
        elif getattr(field.remote_field, "through", None) is through:
            return str(field.name)
    raise LookupError(f"no many-to-many through {through} on {type(instance).__name__}")


def on_user_groups_changed(**kw: Any) -> None:
    access_changed("auth.roles_changed", **kw)


def on_user_permissions_changed(**kw: Any) -> None:
    access_changed("auth.user_permissions_changed", **kw)


def on_group_permissions_changed(**kw: Any) -> None:
    access_changed("auth.group_permissions_changed", **kw)


def on_fund_handlers_changed(**kw: Any) -> None:
    access_changed("fund.handlers_changed", **kw)


# ---------------------------------------------------------------------------------------
# Fund rules

#: Fields whose new values may appear in the payload: rules, amounts, codes — none personal.
FUND_RULE_VALUES = (
    "code",
    "kind",
    "active",
    "allowed_categories",
    "max_per_item",
    "max_per_application",
    "max_per_person_year",
    "geographic_scope",
    "two_signature_threshold",
    "accounting_dimension",
    "restricted_funds_account",
    "instalments_allowed",
    "follow_up_required",
    "awaiting_ombud_reminder_days",
    "completion_reminder_days",
    "unpaid_reminder_days",
)


def _fund_state(instance: Any) -> dict[str, Any]:
    from django.db.models import ForeignObjectRel

    state: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if isinstance(field, ForeignObjectRel) or field.primary_key:
            continue
        state[field.attname] = field.value_from_object(instance)
    return state


def before_fund_saved(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    if raw or instance.pk is None:
        instance._audit_before = None
        return
    previous = sender.objects.filter(pk=instance.pk).first()
    instance._audit_before = _fund_state(previous) if previous is not None else None


def _plain(value: Any) -> Any:
    """Money as its amount in öre precision (as stored); other rule values as they are."""
    amount = getattr(value, "amount", None)
    return amount.quantize(Decimal("0.01")) if isinstance(amount, Decimal) else value


def on_fund_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    """Record which fund fields changed (names), with the new values of the rule fields."""
    if raw:
        return
    before = getattr(instance, "_audit_before", None)
    after = _fund_state(instance)
    if created or before is None:
        changed = sorted(after)
    else:
        changed = sorted(name for name, value in after.items() if before.get(name) != value)
    # A money field is one logical field (amount + currency column).
    changed = sorted({name.removesuffix("_currency") for name in changed})
    if not changed:
        return
    values = {name: _plain(getattr(instance, name)) for name in changed if name in FUND_RULE_VALUES}
    actor = current_actor()
    with transaction.atomic():
        record_event(
            action="fund.created" if created else "fund.rules_changed",
            actor=actor,
            role=current_role(actor=actor),
            object_type="fund",
            object_ref=instance.code,
            payload={"fields": changed, "values": values},
        )


# ---------------------------------------------------------------------------------------
# People: the user accounts behind the actor ids

#: The user fields whose change is an event. ``last_login`` (every sign-in) and the
#: password hash are left out: noise, and a secret.
USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_superuser",
    "is_staff",
    "is_active",
)
#: The fields whose new values may appear in the payload: flags, never a name or address.
USER_FLAGS = ("is_superuser", "is_staff", "is_active")


def _user_fields(update_fields: Any) -> tuple[str, ...]:
    if update_fields is None:
        return USER_FIELDS
    return tuple(name for name in USER_FIELDS if name in update_fields)


def before_user_saved(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any
) -> None:
    """Remember the stored row, to name what changed (a sign-in's last_login skips the query)."""
    instance._audit_user_before = None
    fields = _user_fields(update_fields)
    if raw or instance.pk is None or not fields:
        return
    instance._audit_user_before = (
        sender._base_manager.filter(pk=instance.pk).values(*fields).first()
    )


def on_user_saved(
    sender: Any,
    instance: Any,
    created: bool,
    raw: bool = False,
    update_fields: Any = None,
    **kw: Any,
) -> None:
    """Record a new user, or which of its fields changed: names only, values of the flags."""
    if raw:
        return
    fields = _user_fields(update_fields)
    before = getattr(instance, "_audit_user_before", None)
    after = {name: getattr(instance, name) for name in fields}
    if created:
        changed = sorted(name for name, value in after.items() if value)
        values = {name: bool(after[name]) for name in USER_FLAGS}
    elif before is None:
        return  # saved with only untracked fields, or a row that vanished meanwhile
    else:
        changed = sorted(name for name, value in after.items() if before.get(name) != value)
        values = {name: bool(after[name]) for name in changed if name in USER_FLAGS}
    if not changed and not created:
        return
    actor = current_actor()
    with transaction.atomic():
        record_event(
            action="user.created" if created else "user.changed",
            actor=actor,
            role=current_role(actor=actor),
            object_type="user",
            object_ref=str(instance.pk),
            payload={"fields": changed, "values": values},
        )
