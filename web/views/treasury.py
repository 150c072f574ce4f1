"""The treasurer's pages: payees to approve, payouts to schedule, batches (four eyes), bank
files, balances."""

from __future__ import annotations

from typing import Any, Protocol

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounting import services as accounting
from accounting.bank_exceptions import open_bank_exceptions, resolve_bank_exception
from accounting.commitments import open_commitments
from accounting.ledger import closed_period_meaning, fund_bank_balance
from accounting.models import (
    BankException,
    BankExceptionResolution,
    BatchStatus,
    FiscalYear,
    OrderStatus,
    Payee,
    PayeeKind,
    PaymentBatch,
    PaymentOrder,
    Period,
    PeriodCloseRequest,
)
from accounting.period_closing import approve_period_close, propose_period_close
from accounting.selectors import batches_with_figures, payees_awaiting_approval, year_end_page
from accounting.year_end import approve_year_end, prepare_year_end
from core.exceptions import WorkflowError
from core.inputs import as_id
from core.roles import Role
from fund.models import Application, Fund
from fund.states import State
from web.access import page
from web.forms import BankFileForm, BatchForm
from web.views.common import form_problems, show_refusal
from workflows import services
from workflows.step_inputs import SchedulePayout


@page(Role.TREASURER)
def treasury(request: HttpRequest) -> HttpResponse:
    unbatched = list(
        PaymentOrder.objects.filter(status=OrderStatus.SCHEDULED, batch__isnull=True)
        .select_related("application", "fund", "payee")
        .order_by("pk")
    )
    batches = list(
        batches_with_figures(PaymentBatch.objects.exclude(status=BatchStatus.CANCELLED))
        .select_related("created_by", "approved_by")
        .order_by("-created_at")[:50]
    )
    to_schedule = list(
        Application.objects.filter(state=State.APPROVED)
        .select_related("fund")
        .order_by("decided_at")[:100]
    )
    funds = [
        {
            "fund": fund,
            "bank": fund_bank_balance(fund),
            "balance": accounting.fund_balance(fund),
            "committed": open_commitments(fund),
            "available": accounting.available(fund),
        }
        for fund in Fund.objects.order_by("name")
    ]
    return render(
        request,
        "web/treasury.html",
        {
            "unbatched": unbatched,
            "unbatched_total": sum(o.amount.amount for o in unbatched),
            "batches": batches,
            "to_schedule": to_schedule,
            "funds": funds,
            "exceptions": list(open_bank_exceptions()[:100]),
            "resolutions": BankExceptionResolution.choices,
            "payees_to_approve": payees_awaiting_approval(),
            "payee_choices": payee_choices(),
            "bank_file_form": BankFileForm(),
        },
    )


def payee_choices() -> list[Payee]:
    """Payees a case's payout may go to besides the ombud's organisation's default: active,
    approved suppliers and organisations (a person's own account is chosen on the case)."""
    return list(
        Payee.objects.filter(active=True, approved_by__isnull=False)
        .exclude(kind=PayeeKind.PERSON)
        .order_by("name", "reference")
    )


@page(Role.TREASURER, methods=("POST",))
def schedule_payouts(request: HttpRequest) -> HttpResponse:
    """Schedule the payouts of the approved cases ticked, each to the payee chosen for it,
    and stay in the treasury (one page load for several cases)."""
    references = [str(ref) for ref in request.POST.getlist("applications")][:100]
    cases = list(
        Application.objects.filter(state=State.APPROVED, reference__in=references).order_by(
            "decided_at"
        )
    )
    if not cases:
        messages.error(request, _("Tick the approved cases whose payouts to schedule."))
        return redirect("web:treasury")
    scheduled: list[str] = []
    for app in cases:
        payee = as_id(request.POST.get(f"payee_{app.reference}"))
        try:
            services.transition(app, actor=request.user, step=SchedulePayout(payee=payee))
        except WorkflowError as error:
            for message in error.messages:
                messages.error(request, f"{app.reference}: {message}")
        else:
            scheduled.append(app.reference)
    if scheduled:
        messages.success(
            request,
            ngettext(
                "The payout of %(count)s case is scheduled: %(refs)s.",
                "The payouts of %(count)s cases are scheduled: %(refs)s.",
                len(scheduled),
            )
            % {"count": len(scheduled), "refs": ", ".join(scheduled)},
        )
    return redirect("web:treasury")


@page(Role.TREASURER, methods=("POST",))
def approve_payee(request: HttpRequest, pk: int) -> HttpResponse:
    """A second treasurer approves a new payee; the registrar is refused by the service."""
    payee = get_object_or_404(Payee, pk=pk)
    try:
        accounting.approve_payee(payee, actor=request.user)
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Payee %(ref)s is approved.") % {"ref": payee.reference})
    return redirect("web:treasury")


@page(Role.TREASURER, methods=("POST",))
def create_batch(request: HttpRequest) -> HttpResponse:
    waiting = PaymentOrder.objects.filter(status=OrderStatus.SCHEDULED, batch__isnull=True)
    form = BatchForm(request.POST, waiting=waiting.values_list("pk", flat=True))
    if not form.is_valid():
        form_problems(request, form)
        return redirect("web:treasury")
    ids = form.cleaned_data["orders"]
    orders = list(waiting.filter(pk__in=ids)) if ids else None
    try:
        batch = accounting.create_batch(actor=request.user, orders=orders)
    except WorkflowError as error:
        show_refusal(request, error)
        return redirect("web:treasury")
    messages.success(
        request,
        _("%(batch)s, is created; a second treasurer approves it.") % {"batch": batch.display_name},
    )
    return redirect("web:batch", pk=batch.pk)


@page(Role.TREASURER)
def batch_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(
        batches_with_figures(PaymentBatch.objects.all()).select_related(
            "created_by", "approved_by", "sent_by"
        ),
        pk=pk,
    )
    orders = list(batch.orders.select_related("application", "payee", "fund").order_by("pk"))
    return render(
        request,
        "web/batch.html",
        {"batch": batch, "orders": orders, "total": sum(o.amount.amount for o in orders)},
    )


class BatchAction(Protocol):
    def __call__(self, batch: PaymentBatch, *, actor: Any) -> Any: ...


BATCH_ACTIONS: dict[str, BatchAction] = {
    "approve": accounting.approve_batch,
    "mark_sent": accounting.mark_sent,
    "confirm_paid": accounting.confirm_batch_paid,
    "cancel": accounting.cancel_batch,
    "void": accounting.void_batch_file,
}


@page(Role.TREASURER, methods=("POST",))
def batch_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    batch = get_object_or_404(batches_with_figures(PaymentBatch.objects.all()), pk=pk)
    run = BATCH_ACTIONS.get(action)
    if run is None:
        messages.error(request, _("Unknown action."))
        return redirect("web:batch", pk=pk)
    name = batch.display_name  # before the action: a cancelled batch lets its orders go
    try:
        outcome = run(batch, actor=request.user)
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, batch_action_done(action, name, outcome))
    return redirect("web:batch", pk=pk)


def batch_action_done(action: str, name: str, outcome: Any) -> str:
    """What the batch action did, naming the batch (``Bunt 2026-12-03 med 14 betalningar,
    52 300,00 kr, är godkänd``)."""
    if action == "confirm_paid":
        count = int(outcome)
        return ngettext(
            "%(batch)s: %(count)s payment is booked as paid.",
            "%(batch)s: %(count)s payments are booked as paid.",
            count,
        ) % {"batch": name, "count": count}
    done = {
        "approve": _("%(batch)s, is approved; its payment file can be downloaded."),
        "mark_sent": _("%(batch)s, is marked as sent to the bank."),
        "cancel": _("%(batch)s, is cancelled; its orders are back in the list for a new batch."),
        "void": _(
            "The file of %(batch)s is declared void; its unpaid orders are replaced by new "
            "orders for a new batch."
        ),
    }
    return done[action] % {"batch": name}


@page(Role.TREASURER, methods=("POST",))
def batch_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The pain.001 file (a POST: the first export is recorded)."""
    batch = get_object_or_404(PaymentBatch, pk=pk)
    try:
        content = accounting.export_batch(batch, actor=request.user)
    except WorkflowError as error:
        show_refusal(request, error)
        return redirect("web:batch", pk=pk)
    response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{batch.message_id}.xml"'
    return response


@page(Role.TREASURER, methods=("POST",))
def period_close_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Propose closing a period (one treasurer) or approve the proposal (another one)."""
    period = get_object_or_404(Period, pk=pk)
    back = f"{reverse('web:year_end')}?year={period.start.year}"
    try:
        if step == "propose":
            propose_period_close(period, actor=request.user)
            done = _(
                "Closing the period %(period)s is proposed; a second treasurer approves it."
            ) % {"period": f"{period.start:%Y-%m}"}
        elif step == "approve":
            request_ = PeriodCloseRequest.objects.filter(
                period=period, approved_at__isnull=True
            ).first()
            if request_ is None:
                messages.error(request, _("Nobody has proposed closing this period."))
                return redirect(back)
            done = closed_period_meaning(approve_period_close(request_, actor=request.user))
        else:
            messages.error(request, _("Unknown action."))
            return redirect(back)
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, done)
    return redirect(back)


@page(Role.TREASURER, methods=("POST",))
def resolve_exception(request: HttpRequest) -> HttpResponse:
    """Settle a bank exception: where the money the bank moved belongs."""
    pk = as_id(request.POST.get("exception"))
    exception = BankException.objects.filter(pk=pk).first() if pk else None
    if exception is None:
        messages.error(request, _("There is no such bank exception."))
        return redirect("web:treasury")
    try:
        resolve_bank_exception(
            exception, actor=request.user, resolution=str(request.POST.get("resolution", ""))
        )
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The bank exception is resolved."))
    return redirect("web:treasury")


@page(Role.TREASURER)
def year_end_view(request: HttpRequest) -> HttpResponse:
    """The closing of a fiscal year: its checks, restricted funds and the two steps."""
    context = year_end_page(request.GET.get("year"))
    return render(request, "web/year_end.html", context)


@page(Role.TREASURER, methods=("POST",))
def year_end_step(request: HttpRequest, step: str) -> HttpResponse:
    """Prepare (one treasurer) or approve (a second one) the closing of the posted year."""
    run = {"prepare": prepare_year_end, "approve": approve_year_end}.get(step)
    year = as_id(request.POST.get("year"))
    fiscal_year = FiscalYear.objects.filter(start__year=year).first() if year else None
    if run is None or fiscal_year is None:
        messages.error(request, _("There is no such fiscal year."))
        return redirect("web:year_end")
    try:
        run(fiscal_year, actor=request.user)
    except WorkflowError as error:
        show_refusal(request, error)
    else:
        done = {
            "prepare": _("The closing of %(year)s is prepared; a second treasurer approves it."),
            "approve": _("The fiscal year %(year)s is closed and locked."),
        }[step]
        messages.success(request, done % {"year": year})
    return redirect(f"{reverse('web:year_end')}?year={year}")
