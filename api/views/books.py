"""The books, read only: the chart, vouchers with postings, the trial balance and each fund's
figures. Treasurers and auditors read them; every other role is refused (403)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting import books
from accounting.models import Account, Voucher
from api import books_serializers as s
from core.exceptions import PermissionDenied


class BooksReader(APIView):
    """Refuses everyone but treasurers and auditors, once they are signed in (else 401)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not books.may_read_books(request.user):
            raise PermissionDenied(_("Only treasurers and auditors read the books."))


def _query(serializer_class: type[s.YearQuerySerializer], request: Request) -> dict[str, Any]:
    """The query parameters checked; a bad one is a 400 naming it."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class AccountList(BooksReader, generics.ListAPIView):
    """The chart of accounts (BAS), by number."""

    serializer_class = s.AccountSerializer

    def get_queryset(self) -> QuerySet[Account]:
        return books.accounts()


@extend_schema(parameters=[s.VoucherQuerySerializer])
class VoucherList(BooksReader, generics.ListAPIView):
    """Vouchers with their postings (debit +, credit -), by date, series and number."""

    serializer_class = s.VoucherSerializer
    query_serializer = s.VoucherQuerySerializer

    def get_queryset(self) -> QuerySet[Voucher]:
        filters = _query(s.VoucherQuerySerializer, self.request)
        return books.vouchers(fiscal_year=filters.pop("year", None), **filters)


@extend_schema(parameters=[s.TrialBalanceQuerySerializer], responses=s.TrialBalanceSerializer)
class TrialBalance(BooksReader):
    """Per account: opening balance, the year's debits and credits, closing balance (the
    SIE export's figures) and whether debits equal credits."""

    def get(self, request: Request) -> Response:
        query = _query(s.TrialBalanceQuerySerializer, request)
        report = books.trial_balance_report(query["year"], date_to=query.get("date_to"))
        return Response(s.TrialBalanceSerializer(report).data)


@extend_schema(parameters=[s.ReportQuerySerializer])
class FundList(BooksReader, generics.ListAPIView):
    """Each fund's balance, budget, open commitments, what was expensed and paid in the
    year, and what it may still grant."""

    serializer_class = s.FundFiguresSerializer
    query_serializer = s.ReportQuerySerializer

    def get_queryset(self) -> list[books.FundFigures]:  # type: ignore[override]
        return books.fund_figures(_query(s.ReportQuerySerializer, self.request)["year"])
