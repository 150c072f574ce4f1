"""One paginator for every list: 25 a page, at most 100, and a bad ``page_size`` or ``page``
is refused (400) rather than silently clamped, so a client never mistakes a short page for
the end of the list."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from api.strict import known_query_parameters, refuse_unknown_query_parameters

POSITIVE_INTEGER = re.compile(r"^[1-9][0-9]{0,8}$")


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        refuse_unknown_query_parameters(request.query_params, known_query_parameters(view))
        self.check_parameters(request)
        return super().paginate_queryset(queryset, request, view)

    def check_parameters(self, request: Request) -> None:
        problems: dict[str, list[str]] = {}
        params = request.query_params
        if self.page_size_query_param in params:
            size = params[self.page_size_query_param]
            if not POSITIVE_INTEGER.match(size) or int(size) > self.max_page_size:
                problems[self.page_size_query_param] = [
                    _("The page size is a whole number from 1 to %(max)s.")
                    % {"max": self.max_page_size}
                ]
        if self.page_query_param in params:
            page = params[self.page_query_param]
            if page not in self.last_page_strings and not POSITIVE_INTEGER.match(page):
                problems[self.page_query_param] = [_("The page is a whole number from 1.")]
        if problems:
            raise ValidationError(problems)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
