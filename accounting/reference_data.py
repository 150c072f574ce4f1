"""Reference data the books depend on: when it counts as used, and its audit trail.

Postings name accounts, dimension objects and (through the fund object) funds by id, so
changing what an id stands for rewrites booked money. Once used, those fields are fixed (the
admin shows them read-only; ``reference_guards.py`` makes the database refuse them). Every
change that remains possible — through the admin or anything else that saves the model — is an
audit event recorded by the ``post_save``/``post_delete`` receivers below, inside the saving
transaction (``models.ReferenceData`` wraps ``save``/``delete`` in one). ``QuerySet.update``
sends no signal: it is audited only where the database refuses it anyway (once used).

Payloads carry ids, field names and codes, numbers and dates — never a name (an account's or
object's name is listed as a changed field, without its value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Model, Q

from accounting.models import Account, Dimension, DimensionObject, FiscalYear, Period, Posting
from audit.context import current_actor, current_role
from audit.services import record_event


def account_is_used(account: Account) -> bool:
    return Posting.objects.filter(account=account).exists()


def dimension_object_is_used(obj: DimensionObject) -> bool:
    return Posting.objects.filter(Q(fund_object=obj) | Q(project=obj) | Q(cost_centre=obj)).exists()


def dimension_is_used(dimension: Dimension) -> bool:
    return Posting.objects.filter(
        Q(fund_object__dimension=dimension)
        | Q(project__dimension=dimension)
        | Q(cost_centre__dimension=dimension)
    ).exists()


# ---------------------------------------------------------------------------------------
# Audit


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _object_codes(obj: DimensionObject) -> dict[str, Any]:
    dimension = Dimension.objects.filter(pk=obj.dimension_id).first()
    fund_code = obj.fund.code if obj.fund_id is not None and obj.fund is not None else None
    return {
        "dimension": dimension.number if dimension else None,
        "code": obj.code,
        "fund": fund_code,
    }


#: Per model: (the values that may appear in a payload, all fields compared, object_ref).
#: Dimension objects name their fund by its code; names appear as field names only.
_TRACKED: dict[type[Model], tuple[Callable[[Any], dict[str, Any]], tuple[str, ...]]] = {
    Account: (lambda a: {"number": a.number, "type": a.type, "active": a.active}, ("name",)),
    Dimension: (lambda d: {"number": d.number}, ("name",)),
    DimensionObject: (_object_codes, ("name",)),
    FiscalYear: (lambda y: {"start": _date(y.start), "end": _date(y.end)}, ()),
    Period: (
        lambda p: {"start": _date(p.start), "end": _date(p.end), "fiscal_year": p.fiscal_year_id},
        (),
    ),
}

#: Created by the ledger's services, which record their own events (``fiscal_year_opened``).
_CREATION_AUDITED_ELSEWHERE = (FiscalYear, Period)


def _ref(instance: Any) -> str:
    if isinstance(instance, Account):
        return str(instance.number)
    if isinstance(instance, Dimension):
        return str(instance.number)
    if isinstance(instance, DimensionObject):
        return str(instance.code)
    if isinstance(instance, Period):
        return f"{instance.start:%Y-%m}"
    if isinstance(instance, FiscalYear):
        return f"{instance.start:%Y}"
    return str(instance.pk)


def _snapshot(instance: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(codes that may be shown, other compared fields that are shown by name only)."""
    codes, named = _TRACKED[type(instance)]
    return codes(instance), {name: getattr(instance, name) for name in named}


def _record(instance: Any, change: str, payload: dict[str, Any]) -> None:
    actor = current_actor()
    with transaction.atomic():
        record_event(
            action=f"ledger.{instance._meta.model_name}_{change}",
            actor=actor,
            role=current_role(actor=actor),
            object_type=str(instance._meta.model_name),
            object_ref=_ref(instance),
            payload={"id": instance.pk, **payload},
        )


def before_reference_saved(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    instance._audit_before = None
    if raw or instance.pk is None:
        return
    previous = sender.objects.filter(pk=instance.pk).first()
    if previous is not None:
        instance._audit_before = _snapshot(previous)


def on_reference_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw:
        return
    codes, named = _snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if created or before is None:
        if not isinstance(instance, _CREATION_AUDITED_ELSEWHERE):
            _record(instance, "created", {"new": codes})
        return
    old_codes, old_named = before
    changed_codes = sorted(name for name in codes if codes[name] != old_codes.get(name))
    changed_named = [name for name in named if named[name] != old_named.get(name)]
    if not changed_codes and not changed_named:
        return
    _record(
        instance,
        "changed",
        {
            "fields": sorted(changed_codes + changed_named),
            "old": {name: old_codes[name] for name in changed_codes},
            "new": {name: codes[name] for name in changed_codes},
        },
    )


def on_reference_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    codes, _named = _snapshot(instance)
    _record(instance, "deleted", {"old": codes})


def connect() -> None:
    """Called from :meth:`accounting.apps.AccountingConfig.ready`."""
    from django.db.models.signals import post_delete, post_save, pre_save

    for model in _TRACKED:
        uid = f"accounting.reference.{model._meta.model_name}"
        pre_save.connect(before_reference_saved, sender=model, dispatch_uid=uid + ".pre")
        post_save.connect(on_reference_saved, sender=model, dispatch_uid=uid + ".post")
        post_delete.connect(on_reference_deleted, sender=model, dispatch_uid=uid + ".delete")
