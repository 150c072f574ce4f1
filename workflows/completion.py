"""The ombud's side of a draft and of a komplettering: change the items, answer, send.

A komplettering is not a dead end: the case's ombud changes the items (add, remove, change
category, amount or description), answers the request in words and resubmits, in one step.
What changed per item is recorded on the request for the officer (codes and amounts; of a
description only that it changed). The answer is the person's data, kept under their key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from moneyed import Money

from audit.services import record_event
from core.exceptions import PermissionDenied, TransitionNotAvailable, ValidationFailed
from core.inputs import as_id, clean_text
from core.roles import Role
from fund.case_scope import may_act_as, scope_read_once
from fund.models import Application, NeedItem
from fund.states import State
from workflows import step_inputs
from workflows.models import (
    CompletionItemChange,
    CompletionRequest,
    DecisionStatus,
    ItemChangeKind,
    StatutoryAssessment,
)
from workflows.need_items import check_need_items
from workflows.services.base import MESSAGE_MAX, _locked
from workflows.services.front_door import transition

#: The states in which the case's ombud may change the items.
EDITABLE_STATES = (State.DRAFT, State.NEEDS_COMPLETION)


@dataclass(frozen=True)
class ItemEdit:
    """One item as the ombud wants it: ``item`` is the id of an existing item, None for new."""

    category: str
    amount: Any
    description: str = ""
    item: Any = None


def editable_problem(application: Application, *, actor: Any) -> PermissionDenied | None:
    """Why ``actor`` may not change this case's items now, if they may not (a read)."""
    if not may_act_as(actor, Role.OMBUD, application):
        return PermissionDenied(_("Only the case's ombud may change its need items."))
    if application.state not in EDITABLE_STATES:
        return PermissionDenied(
            _(
                "%(ref)s is “%(state)s”: an ombud changes the items only of a draft or of a case "
                "waiting for komplettering."
            )
            % {"ref": application.reference, "state": State(application.state).label}
        )
    return None


def open_request(application: Application) -> CompletionRequest | None:
    """The komplettering the case waits for, if any."""
    return application.completion_requests.filter(resolved_at__isnull=True).first()


def completion_requests_of(application: Application) -> list[CompletionRequest]:
    """The case's komplettering requests, newest first, each with ``changes`` (its item
    changes): two queries however many requests and changes there are."""
    requests = list(
        application.completion_requests.select_related("application__beneficiary").order_by(
            "-requested_at"
        )
    )
    changes: dict[int, list[CompletionItemChange]] = {}
    for change in CompletionItemChange.objects.filter(request__application=application):
        changes.setdefault(change.request_id, []).append(change)
    for request in requests:
        request.changes = changes.get(request.pk, [])  # type: ignore[attr-defined]
    return requests


@sensitive_variables()
def edit_application(
    application: Application, *, actor: Any, items: Sequence[ItemEdit]
) -> Application:
    """Replace the case's items with ``items`` (kept ones by id, new ones without), checked
    against the fund's rules; the changes are recorded for the officer and audited."""
    with transaction.atomic(), scope_read_once(actor):
        app = _locked(application)
        refusal = editable_problem(app, actor=actor)
        if refusal is not None:
            raise refusal
        if app.decisions.filter(status=DecisionStatus.AWAITING_SIGNATURE).exists():
            raise ValidationFailed(
                _("A decision on %(ref)s awaits its second signature: the items stay as decided.")
                % {"ref": app.reference}
            )
        _apply(app, actor, items)
    return app


@sensitive_variables()
def answer_completion(request: CompletionRequest, *, actor: Any, text: str) -> CompletionRequest:
    """The ombud's answer in words to an open komplettering (kept under the person's key)."""
    with transaction.atomic(), scope_read_once(actor):
        app = _locked(request.application)
        if not may_act_as(actor, Role.OMBUD, app):
            raise PermissionDenied(_("Only the case's ombud may answer the komplettering."))
        current = CompletionRequest.objects.select_for_update().get(pk=request.pk)
        if current.application_id != app.pk or current.resolved_at is not None:
            raise TransitionNotAvailable(_("This komplettering is already answered."))
        problems: list[str] = []
        text = clean_text(
            text, problems, field=_("Your answer"), max_length=MESSAGE_MAX, multiline=True
        )
        if problems:
            raise ValidationFailed(problems)
        if not text and not current.encrypted_answer:
            return current  # nothing said, nothing to record
        current.application = app
        current.answer = text  # encrypted under the person's key
        current.answered_at = timezone.now() if text else None
        current.save(update_fields=["encrypted_answer", "answered_at"])
        record_event(
            action="completion.answered",
            actor=actor,
            role=Role.OMBUD,
            object_type="application",
            object_ref=app.reference,
            payload={"completion_request": current.pk, "answered": bool(text)},
        )
    return current


@sensitive_variables()
def update_application(
    application: Application,
    *,
    actor: Any,
    items: Sequence[ItemEdit],
    answer: str | None = None,
    send: bool = False,
) -> Application:
    """The ombud's one form: change the items, answer the open komplettering (when
    ``answer`` is given) and, with ``send``, submit the draft or resubmit — all or nothing."""
    with transaction.atomic():
        app = edit_application(application, actor=actor, items=items)
        request = open_request(app) if app.state == State.NEEDS_COMPLETION else None
        if request is not None and answer is not None:
            answer_completion(request, actor=actor, text=answer)
        if send:
            step: step_inputs.StepInput = (
                step_inputs.Submit() if app.state == State.DRAFT else step_inputs.Resubmit()
            )
            app = transition(app, actor=actor, step=step)
    return app


def _apply(app: Application, actor: Any, items: Sequence[ItemEdit]) -> None:
    """Check ``items``, then delete, change and add items and record what changed."""
    current = {item.pk: item for item in app.items.select_related("statutory_assessment")}
    kept_ids = _kept_ids(items, current)
    check = check_need_items(app.fund, items)
    for pk, item in current.items():
        if pk not in kept_ids and item.decision_items.exists():
            check.general.append(
                _("Item %(n)s was part of an earlier decision and cannot be removed.")
                % {"n": item.position}
            )
    if not check.ok:
        raise ValidationFailed(check.messages())
    request = open_request(app) if app.state == State.NEEDS_COMPLETION else None
    changes: list[dict[str, Any]] = []
    reassess = False
    for pk in sorted(set(current) - kept_ids):
        item = current[pk]
        changes.append(_change(ItemChangeKind.REMOVED, item, before=_values(item)))
        _record(request, item, kind=ItemChangeKind.REMOVED, before=_values(item), after=None)
        item.delete()  # its statutory assessment goes with it
    # Positions move: park the kept items out of the way of the unique (case, position).
    for item in current.values():
        if item.pk in kept_ids:
            item.position += 1000
            item.save(update_fields=["position"])
    for row, edit in enumerate(items):
        amount = check.amounts[row]
        description = check.descriptions[row]
        item_id = as_id(edit.item)
        if item_id is None:
            item = NeedItem(application=app, position=row + 1, category=edit.category)
            item.requested_amount = amount  # type: ignore[assignment]  # Money into MoneyField
            item.description = description  # encrypted under the person's key
            item.save()
            after = (edit.category, amount, True)
            changes.append(_change(ItemChangeKind.ADDED, item, after=after))
            _record(request, item, kind=ItemChangeKind.ADDED, before=None, after=after)
            reassess = True
            continue
        item = current[item_id]
        before = _values(item)
        described = description != item.description
        item.position = row + 1
        item.category = edit.category
        item.requested_amount = amount  # type: ignore[assignment]  # Money into MoneyField
        if described:
            item.description = description
        item.save()
        if before[:2] != (edit.category, amount) or described:
            after = (edit.category, amount, described)
            changes.append(_change(ItemChangeKind.CHANGED, item, before=before, after=after))
            _record(request, item, kind=ItemChangeKind.CHANGED, before=before, after=after)
        if before[:2] != (edit.category, amount):
            # The assessment was made for another need; the officer assesses it again.
            StatutoryAssessment.objects.filter(need_item=item).delete()
            reassess = True
    if reassess and app.completion_return_state == State.READY_FOR_DECISION:
        app.completion_return_state = State.STATUTORY_CHECK
        app.save(update_fields=["completion_return_state", "updated_at"])
    if changes:
        record_event(
            action="application.items_changed",
            actor=actor,
            role=Role.OMBUD,
            object_type="application",
            object_ref=app.reference,
            payload={
                "fund": app.fund.code,
                "state": app.state,
                "completion_request": request.pk if request else None,
                "changes": changes,
                "back_to_statutory_check": app.completion_return_state == State.STATUTORY_CHECK
                and reassess,
            },
        )


def _kept_ids(items: Sequence[ItemEdit], current: dict[int, NeedItem]) -> set[int]:
    """The existing items named in ``items``: each of this case, each at most once."""
    kept: set[int] = set()
    for edit in items:
        if edit.item in (None, ""):
            continue
        pk = as_id(edit.item)
        if pk is None or pk not in current or pk in kept:
            raise ValidationFailed(_("The items changed while you were editing. Reload the page."))
        kept.add(pk)
    return kept


Values = tuple[str, Money, bool]


def _values(item: NeedItem) -> Values:
    return (item.category, item.requested_amount, False)


def _change(
    kind: str, item: NeedItem, *, before: Values | None = None, after: Values | None = None
) -> dict[str, Any]:
    """A change for the audit payload: ids, codes and amounts, never the description."""
    entry: dict[str, Any] = {"item": item.pk, "kind": kind}
    if before is not None:
        entry["category_before"] = before[0]
        entry["requested_before"] = before[1].amount
    if after is not None:
        entry["category"] = after[0]
        entry["requested"] = after[1].amount
        entry["description_changed"] = after[2]
    return entry


def _record(
    request: CompletionRequest | None,
    item: NeedItem,
    *,
    kind: str,
    before: Values | None,
    after: Values | None,
) -> None:
    """Keep one row per item and komplettering: the first "before", the latest "after"."""
    if request is None:
        return
    row = CompletionItemChange.objects.filter(request=request, need_item=item).first()
    if row is None:
        row = CompletionItemChange(request=request, need_item=item, kind=kind)
        if before is not None:
            row.category_before, row.amount_before = before[0], before[1]
    elif row.kind == ItemChangeKind.ADDED:
        if kind == ItemChangeKind.REMOVED:  # added and removed again: nothing to show
            row.delete()
            return
        kind = ItemChangeKind.ADDED
    row.kind = kind
    row.position = item.position
    if after is None:
        row.category_after, row.amount_after = "", None
    else:
        row.category_after, row.amount_after = after[0], after[1]
        row.description_changed = row.description_changed or after[2]
    if (
        row.kind == ItemChangeKind.CHANGED
        and row.category_after == row.category_before
        and row.amount_after == row.amount_before
        and not row.description_changed
    ):
        if row.pk:
            row.delete()
        return
    row.save()
