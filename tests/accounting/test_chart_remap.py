"""Issue #16, review 16b: a chart remap is an explicit, audited, checked step.

``settings.LEDGER_ACCOUNTS`` says where a role should book; the books record which account
they use (``ChartRoleMapping``). A difference is pending until a treasurer applies it, which
is refused while the old account holds what the remap would strand.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import override_settings

from accounting import chart, ledger
from accounting.ledger import Line, post_voucher
from accounting.models import (
    Account,
    AccountType,
    ChartRoleMapping,
    DimensionObject,
    Posting,
    VoucherSeries,
)
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from operations.production_checks import chart_mapping_problems

pytestmark = pytest.mark.django_db

D = Decimal


def move_balance(old: str, new: str, actor) -> None:  # type: ignore[no-untyped-def]
    """A treasurer's manual voucher moving ``old``'s balance to ``new``, fund by fund."""
    rows = (
        Posting.objects.filter(account__number=old)
        .order_by()
        .values_list("fund_object", "project", "cost_centre")
        .annotate(total=Sum("amount"))
    )
    lines = []
    for fund_object, project, cost_centre, total in rows:
        if not total:
            continue
        dims = {
            "fund": DimensionObject.objects.get(pk=fund_object).fund if fund_object else None,
            "project": DimensionObject.objects.get(pk=project) if project else None,
            "cost_centre": DimensionObject.objects.get(pk=cost_centre) if cost_centre else None,
        }
        lines += [Line(old, -total, **dims), Line(new, total, **dims)]
    post_voucher(series=VoucherSeries.MANUAL, text="Flytt av saldo", lines=lines, actor=actor)


def test_a_settings_remap_not_applied_is_a_production_problem(world) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create(number="1941", name="Bank (egen)", type=AccountType.ASSET)
    with override_settings(LEDGER_ACCOUNTS={"bank": "1941"}):
        assert [change.role for change in chart.pending_changes()] == ["bank"]
        assert chart.chart_problems() == [
            "role bank: the settings map it to 1941, the books use 1930; apply the change "
            "with `manage.py chart_mapping --apply --user U`"
        ]
        assert len(chart_mapping_problems()) == 1
    assert chart.chart_problems() == []


def test_services_book_nothing_while_a_remap_is_pending_but_manual_vouchers_do(world) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create(number="3980", name="Gåvor (egen)", type=AccountType.INCOME)
    with override_settings(LEDGER_ACCOUNTS={"donation": "3980"}):
        with pytest.raises(ValidationFailed, match="donation 3993 -> 3980"):
            ledger.record_income(
                world.fund, "100", kind="donation", actor=world.treasurer, reference="G-2"
            )
        post_voucher(
            series=VoucherSeries.MANUAL,
            text="Omforing",
            lines=[Line("1930", D("1")), Line("3993", D("-1"))],
            actor=world.treasurer,
        )
    assert not Posting.objects.filter(account__number="3980").exists()


def test_only_a_treasurer_applies_a_remap(world) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create(number="1941", name="Bank (egen)", type=AccountType.ASSET)
    with (
        override_settings(LEDGER_ACCOUNTS={"bank_suspense": "1941"}),
        pytest.raises(PermissionDenied),
    ):
        chart.apply_mapping(actor=world.officer)
    assert not ChartRoleMapping.objects.exists()


def test_a_remap_to_an_account_missing_inactive_or_of_another_type_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create(number="1942", name="Stängd", type=AccountType.ASSET, active=False)
    Account.objects.create(number="3980", name="Intäkt", type=AccountType.INCOME)
    settings = {"bank_suspense": "1942", "accrued_income": "3980", "grants_payable": "2899"}
    with override_settings(LEDGER_ACCOUNTS=settings), pytest.raises(ValidationFailed) as refused:
        chart.apply_mapping(actor=world.treasurer)
    messages = "\n".join(refused.value.messages)
    assert "bank_suspense: account 1942 is not an active account" in messages
    assert "grants_payable: account 2899 is not an active account" in messages
    assert "accrued_income: account 3980 is of type Income; this role books on Asset" in messages
    assert not ChartRoleMapping.objects.exists()


def test_a_remap_applied_is_recorded_with_its_audit_event(world) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create(number="1791", name="Upplupna (egen)", type=AccountType.ASSET)
    with override_settings(LEDGER_ACCOUNTS={"accrued_income": "1791"}):
        [change] = chart.apply_mapping(actor=world.treasurer)
        assert (change.role, change.books, change.settings) == ("accrued_income", "1790", "1791")
        assert chart.pending_changes() == []
        assert chart.apply_mapping(actor=world.treasurer) == []  # nothing left to apply
    row = ChartRoleMapping.objects.get(role="accrued_income")
    assert (row.account_number, row.earlier_accounts, row.recorded_by) == (
        "1791",
        ["1790"],
        world.treasurer,
    )
    assert chart.recorded_mapping()["accrued_income"] == "1791"
    assert chart.accounts_of("accrued_income") == ("1790", "1791")
    event = AuditEvent.objects.get(action="ledger.chart_mapping_changed")
    assert event.payload == {
        "role": "accrued_income",
        "old_account": "1790",
        "new_account": "1791",
    }
    # Settings back at the default while the books use 1791: that is a pending change too.
    assert [c.settings for c in chart.pending_changes()] == ["1790"]


def test_a_balance_sheet_role_is_not_remapped_while_its_account_holds_money(world) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create(number="1791", name="Upplupna ESF", type=AccountType.ASSET)
    post_voucher(
        series=VoucherSeries.MANUAL,
        text="Upplupen intakt test",
        lines=[Line("1790", D("100")), Line("3981", D("-100"))],
        actor=world.treasurer,
    )
    with override_settings(LEDGER_ACCOUNTS={"accrued_income": "1791"}):
        with pytest.raises(ValidationFailed) as refused:
            chart.apply_mapping(actor=world.treasurer)
        assert refused.value.messages == [
            "accrued_income: account 1790 still holds 100.00; move it to 1791 with a manual "
            "voucher (on the same fund and project) before the remap."
        ]
        move_balance("1790", "1791", world.treasurer)
        chart.apply_mapping(actor=world.treasurer)
    assert chart.recorded_mapping()["accrued_income"] == "1791"


def test_the_chart_mapping_command_lists_and_applies(world, capsys) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create(number="1791", name="Upplupna (egen)", type=AccountType.ASSET)
    with override_settings(LEDGER_ACCOUNTS={"accrued_income": "1791"}):
        call_command("chart_mapping")
        assert "accrued_income: 1790, 1790, 1791  (pending)" in capsys.readouterr().out
        with pytest.raises(CommandError):
            call_command("chart_mapping", "--apply")
        call_command("chart_mapping", "--apply", "--user", world.treasurer.username)
        out = capsys.readouterr().out
    assert "accrued_income: 1790 -> 1791" in out
    assert "accrued_income: 1790, 1791, 1791\n" in out
