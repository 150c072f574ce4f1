"""The books as the API shows them (read only) and the query parameters that filter them.

A filter value that cannot be right is refused with a 400 naming the parameter, rather than
ignored: an integrator who mistyped a series would otherwise read the whole ledger.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounting import books
from accounting.ledger import year_of
from accounting.models import (
    Account,
    AccountType,
    Ceiling,
    Dimension,
    DimensionObject,
    FiscalYear,
    Posting,
    Voucher,
    VoucherSeries,
)
from api.money import MoneyField
from api.strict import StrictQuerySerializer
from fund.models import Fund

CODE = r"^[-a-zA-Z0-9_]{1,32}$"


class AccountSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=AccountType.choices, read_only=True)

    class Meta:
        model = Account
        fields = ["number", "name", "type", "active"]
        read_only_fields = fields


def _code(obj: DimensionObject | None) -> str | None:
    return obj.code if obj is not None else None


class PostingSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number", read_only=True)
    amount = MoneyField(help_text="Debit positive, credit negative.")
    fund = serializers.SerializerMethodField(help_text="The fund's code (fund dimension).")
    project = serializers.SerializerMethodField(help_text="The project object's code.")
    cost_centre = serializers.SerializerMethodField(help_text="The cost centre's code.")

    class Meta:
        model = Posting
        fields = ["account", "amount", "fund", "project", "cost_centre"]
        read_only_fields = fields

    def get_fund(self, posting: Posting) -> str | None:
        obj = posting.fund_object
        if obj is None:
            return None
        return obj.fund.code if obj.fund is not None else obj.code

    def get_project(self, posting: Posting) -> str | None:
        return _code(posting.project)

    def get_cost_centre(self, posting: Posting) -> str | None:
        return _code(posting.cost_centre)


class VoucherSerializer(serializers.ModelSerializer):
    series = serializers.ChoiceField(choices=VoucherSeries.choices, read_only=True)
    fiscal_year = serializers.IntegerField(
        source="fiscal_year.start.year", read_only=True, help_text="The fiscal year's start year."
    )
    reverses = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The voucher this one reverses (its id)."
    )
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = Voucher
        fields = [
            "id",
            "series",
            "number",
            "date",
            "text",
            "fiscal_year",
            "reverses",
            "created_at",
            "postings",
        ]
        read_only_fields = fields


def _no_year(year: int) -> str:
    return _("There is no fiscal year %(year)s in the ledger.") % {"year": year}


class YearQuerySerializer(StrictQuerySerializer):
    """``year``: a fiscal year by its start year."""

    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999, help_text="The fiscal year's start year."
    )

    def validate_year(self, value: int) -> FiscalYear:
        fiscal_year = books.fiscal_year_starting_in(value)
        if fiscal_year is None:
            raise serializers.ValidationError(_no_year(value))
        return fiscal_year


class ReportQuerySerializer(YearQuerySerializer):
    """A report of one year: the year holding today when ``year`` is left out."""

    year = serializers.IntegerField(
        required=False,
        min_value=1900,
        max_value=2999,
        help_text="The fiscal year's start year (default: the year holding today).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "year" not in attrs:
            today = timezone.localdate()
            fiscal_year = year_of(today)
            if fiscal_year is None:
                raise serializers.ValidationError({"year": [_no_year(today.year)]})
            attrs["year"] = fiscal_year
        return attrs


class VoucherQuerySerializer(YearQuerySerializer):
    """Filters of the voucher list; each one left out does not filter."""

    series = serializers.ChoiceField(choices=VoucherSeries.choices, required=False)
    fund = serializers.RegexField(CODE, required=False, help_text="A fund's code.")
    project = serializers.RegexField(CODE, required=False, help_text="A project object's code.")
    date_from = serializers.DateField(required=False, help_text="Vouchers dated on or after.")
    date_to = serializers.DateField(required=False, help_text="Vouchers dated on or before.")

    def validate_fund(self, value: str) -> str:
        if not Fund.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("There is no fund %(code)s.") % {"code": value})
        return value

    def validate_project(self, value: str) -> str:
        if not DimensionObject.objects.filter(
            dimension__number=Dimension.PROJECT, code=value
        ).exists():
            raise serializers.ValidationError(
                _("There is no project %(code)s in the books.") % {"code": value}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError(
                {"date_to": [_("The end date comes before the start date.")]}
            )
        return attrs


class TrialBalanceQuerySerializer(ReportQuerySerializer):
    date_to = serializers.DateField(
        required=False, help_text="Balances up to this day of the year (default: the year's end)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        problem = books.date_outside_year(attrs["year"], attrs.get("date_to"))
        if problem:
            raise serializers.ValidationError({"date_to": [problem]})
        return attrs


class TrialBalanceRowSerializer(serializers.Serializer):
    account = serializers.CharField()
    name = serializers.CharField()
    opening = MoneyField(help_text="Opening balance (#IB), debit +.")
    debit = MoneyField()
    credit = MoneyField(help_text="What was credited, as a positive amount.")
    closing = MoneyField(
        help_text="Closing balance (#UB; for a result account the year's result, #RES), debit +."
    )


class TrialBalanceSerializer(serializers.Serializer):
    year = serializers.IntegerField(help_text="The fiscal year's start year.")
    as_of = serializers.DateField(help_text="The last day whose vouchers are counted.")
    rows = TrialBalanceRowSerializer(many=True)
    total_debit = MoneyField()
    total_credit = MoneyField()
    balanced = serializers.BooleanField(help_text="The debits equal the credits.")


class FundFiguresSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    ceiling = serializers.ChoiceField(
        choices=Ceiling.choices, help_text="What limits the fund's decisions."
    )
    balance = MoneyField(help_text="The fund's capital over all years, as the books hold it now.")
    budget = MoneyField(allow_null=True, help_text="The year's budget for grants, if set.")
    open_commitments = MoneyField(help_text="Decided grants not yet paid out.")
    expensed = MoneyField(help_text="The year's commitments paid out.")
    paid = MoneyField(help_text="What the bank paid for the fund's grants in the year.")
    available = MoneyField(help_text="What the fund may still grant.")
