"""What each step of the workflow takes: one frozen dataclass per step, checked by mypy.

Python callers build the input (``transition(app, actor=user, step=Withdraw(reason="…"))``);
the edges that receive a step by name — the case page's buttons and forms, the API's
``transitions`` endpoint, commands — turn what they received into one with :func:`parse`, the
one place where a step name and an untyped mapping meet. :func:`parse` refuses what cannot be
typed (an unknown step, decided amounts that are not a list, text that is not text) with the
messages a fund officer reads; what the input means for the case (a valid reason code, an
amount within the grant, a payee that exists) is the step's own rule, checked in the service.
A field a step does not take is ignored, as the API sends every field to every step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.utils.translation import gettext as _
from moneyed import Money

from core.exceptions import TransitionNotAvailable, ValidationFailed
from core.inputs import as_entries, as_id, shown
from workflows.models import AttestationMethod

#: An amount as entered: text as typed (``"1 250,50"``), a number, or Money.
Amount = str | int | Decimal | Money
#: A payee as chosen: the payee itself, its id, or what was typed (refused by name if unknown).
PayeeChoice = models.Model | int | str


@dataclass(frozen=True)
class StepInput:
    """What every step's input has: the name of its step."""

    STEP: ClassVar[str] = ""

    @property
    def name(self) -> str:
        return self.STEP


@dataclass(frozen=True)
class Submit(StepInput):
    STEP = "submit"


@dataclass(frozen=True)
class RequestAttestation(StepInput):
    STEP = "request_attestation"


@dataclass(frozen=True)
class Attest(StepInput):
    """The ombud attests the need: how, and that they saw it."""

    STEP = "attest"
    need_confirmed: bool
    method: str = AttestationMethod.PORTAL


@dataclass(frozen=True)
class DeclineAttestation(StepInput):
    STEP = "decline_attestation"
    reason: str


@dataclass(frozen=True)
class StartStatutoryCheck(StepInput):
    STEP = "start_statutory_check"


@dataclass(frozen=True)
class Refer(StepInput):
    """Every item is an authority's to pay: the referrals come from the assessments."""

    STEP = "refer"


@dataclass(frozen=True)
class Clear(StepInput):
    STEP = "clear"


@dataclass(frozen=True)
class DecidedItem:
    """One need item's decided amount; an empty reason takes the decision's default.
    ``text`` writes the reason out (needed for "other"; kept under the person's key)."""

    item: int
    amount: Amount = 0
    reason: str = ""
    text: str = ""


DECISIONS = ("approve", "approve_partly", "reject")


@dataclass(frozen=True)
class Decide(StepInput):
    """Approve, approve partly or reject. No items: the defaults from the statutory check
    (or, when a decision awaits a second signature with this outcome, co-sign it)."""

    outcome: str
    items: tuple[DecidedItem, ...] = ()
    reason: str = ""
    #: A co-signature names the pending decision the signer was shown; another one (set aside
    #: and decided again since the page was read) is then refused, never signed unseen.
    signs: int | None = None
    #: The caller must name what they co-sign (the API): a co-signature without ``signs`` is
    #: refused rather than given to whatever decision awaits a signature at that moment.
    signature_named_only: bool = False

    @property
    def name(self) -> str:
        return self.outcome


@dataclass(frozen=True)
class SchedulePayout(StepInput):
    """Pay the approved items: to ``payee``, or per item id in ``payees``; neither: the ombud's
    organisation's payee."""

    STEP = "schedule_payout"
    payee: PayeeChoice | None = None
    payees: Mapping[int | str, PayeeChoice | None] | None = None


@dataclass(frozen=True)
class ConfirmPaid(StepInput):
    STEP = "confirm_paid"


@dataclass(frozen=True)
class PayoutFailed(StepInput):
    """Why (a code); ``payment_orders`` are orders already failed from the bank's answer."""

    STEP = "payout_failed"
    reason: str
    payment_orders: tuple[int, ...] = ()


@dataclass(frozen=True)
class Close(StepInput):
    STEP = "close"


@dataclass(frozen=True)
class RequestCompletion(StepInput):
    """Komplettering: what the ombud must add (kept encrypted under the person's key)."""

    STEP = "request_completion"
    message: str


@dataclass(frozen=True)
class Resubmit(StepInput):
    STEP = "resubmit"


@dataclass(frozen=True)
class Reconsider(StepInput):
    STEP = "reconsider"


@dataclass(frozen=True)
class Withdraw(StepInput):
    STEP = "withdraw"
    reason: str


@dataclass(frozen=True)
class GiveUpPayout(StepInput):
    STEP = "give_up_payout"
    reason: str


#: Every step's input type, by the step's name.
INPUTS: dict[str, type[StepInput]] = {
    **{
        kind.STEP: kind
        for kind in (
            Submit,
            RequestAttestation,
            Attest,
            DeclineAttestation,
            StartStatutoryCheck,
            Refer,
            Clear,
            SchedulePayout,
            ConfirmPaid,
            PayoutFailed,
            Close,
            RequestCompletion,
            Resubmit,
            Reconsider,
            Withdraw,
            GiveUpPayout,
        )
    },
    **{outcome: Decide for outcome in DECISIONS},
}


def parse(name: str, data: Mapping[str, object] | None = None) -> StepInput:
    """The input of step ``name`` from what a page, the API or a command received."""
    data = data or {}
    if name not in INPUTS:
        raise TransitionNotAvailable(_("There is no step called “%(name)s”.") % {"name": name})
    if name in DECISIONS:
        return Decide(
            outcome=name,
            items=_decided_items(data.get("items")),
            reason=_code(data, "reason"),
            signs=_shown_decision(data.get("decision")),
        )
    if name == Attest.STEP:
        method = data.get("method", AttestationMethod.PORTAL)
        return Attest(
            need_confirmed=data.get("need_confirmed") is True,
            method=method if isinstance(method, str) else _invalid(method),
        )
    if name == RequestCompletion.STEP:
        return RequestCompletion(message=_text(data.get("message"), field=_("Message")))
    if name == SchedulePayout.STEP:
        return SchedulePayout(payee=_payee(data.get("payee")), payees=_payees(data.get("payees")))
    if name == PayoutFailed.STEP:
        return PayoutFailed(
            reason=_code(data, "reason"), payment_orders=_ids(data.get("payment_orders"))
        )
    if name == DeclineAttestation.STEP:
        return DeclineAttestation(reason=_code(data, "reason"))
    if name == Withdraw.STEP:
        return Withdraw(reason=_code(data, "reason"))
    if name == GiveUpPayout.STEP:
        return GiveUpPayout(reason=_code(data, "reason"))
    return INPUTS[name]()


def _invalid(value: object) -> str:
    """A value that is no code, as a string no code list holds (refused by the step)."""
    return shown(value) or "?"


def _code(data: Mapping[str, object], key: str) -> str:
    """A code as given; empty when missing or empty; anything else stays invalid."""
    value = data.get(key)
    if isinstance(value, str):
        return value
    return _invalid(value) if value else ""


def _text(value: object, *, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(
            _("%(field)s: “%(v)s” is not text.") % {"field": field, "v": shown(value)}
        )
    return value


def _amount(value: object) -> Amount:
    if isinstance(value, Money | Decimal | str) or (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        return value
    return str(value)  # the step refuses it, quoting it as typed


def _decided_items(value: object) -> tuple[DecidedItem, ...]:
    entries = as_entries(value)
    if entries is None:
        raise ValidationFailed(
            _("The decided amounts must be a list of need items, each with its amount.")
        )
    items = []
    for entry in entries:
        pk = as_id(entry.get("item"))
        if pk is None:
            raise ValidationFailed(_("Each decided amount must name its need item."))
        items.append(
            DecidedItem(
                item=pk,
                amount=_amount(entry.get("amount", 0)),
                reason=_code(entry, "reason"),
                text=_text(entry.get("text"), field=_("Reason")),
            )
        )
    return tuple(items)


def _payee(value: object) -> PayeeChoice | None:
    if value is None or isinstance(value, models.Model | str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return shown(value)


def _payees(value: object) -> dict[int | str, PayeeChoice | None] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationFailed(_("Payees must be given per need item (item id: payee id)."))
    return {
        key if isinstance(key, int | str) else shown(key): _payee(payee)
        for key, payee in value.items()
    }


def _shown_decision(value: object) -> int | None:
    if value is None or value == "":
        return None
    decision = as_id(value)
    if decision is None:
        raise ValidationFailed(_("The decision to sign must be named by its number."))
    return decision


def _ids(value: object) -> tuple[int, ...]:
    if value is None or value == "":
        return ()
    ids = (
        [as_id(v) for v in value]
        if isinstance(value, Sequence) and not isinstance(value, str)
        else [None]
    )
    if None in ids:
        raise ValidationFailed(_("The failed payment orders must be a list of order numbers."))
    return tuple(i for i in ids if i is not None)
