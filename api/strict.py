"""Strict input: a field the API does not know is refused, never silently dropped.

An integrator who sends ``"currency": "EUR"`` on a need item must learn that the API takes
no currency, not find the case created in SEK. Every serializer the API reads a request body
with is a :class:`StrictSerializer`; nested serializers and the children of ``many=True``
lists are checked by their own ``to_internal_value``, so an unknown key deep inside is named
by its path (``items[0].currency``) in the error body's ``fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError


class StrictSerializer(serializers.Serializer):
    """A serializer for input that refuses keys it has no writable field for."""

    default_error_messages = {"unknown_field": _("Unknown field: the API does not take it.")}

    def known_fields(self) -> set[str]:
        return {name for name, field in self.fields.items() if not field.read_only}

    def to_internal_value(self, data: Any) -> Any:
        unknown = (
            sorted(str(key) for key in data if key not in self.known_fields())
            if isinstance(data, Mapping)
            else []
        )
        if not unknown:
            return super().to_internal_value(data)
        errors: dict[str, Any] = {}
        try:
            super().to_internal_value(data)
        except ValidationError as exc:
            if isinstance(exc.detail, dict):
                errors.update(exc.detail)
        for key in unknown:
            errors[key] = [self.error_messages["unknown_field"]]
        raise ValidationError(errors)


#: The paginator's own query parameters, which every list takes.
PAGING = frozenset({"page", "page_size"})


def refuse_unknown_query_parameters(params: Any, known: set[str] | frozenset[str]) -> None:
    """A query parameter a list does not take, or one given twice, is refused (400): a
    mistyped filter (``?serie=B``) must not answer the whole ledger as if filtered."""
    problems: dict[str, list[str]] = {}
    for key in params:
        if key not in known:
            problems[str(key)] = [str(_("Unknown query parameter: this list does not take it."))]
        elif hasattr(params, "getlist") and len(params.getlist(key)) > 1:
            problems[str(key)] = [str(_("Given more than once: give it once."))]
    if problems:
        raise ValidationError(problems)


class StrictQuerySerializer(StrictSerializer):
    """Query parameters of a list or report: its filters and the paginator's, each once."""

    def known_fields(self) -> set[str]:
        return super().known_fields() | PAGING

    def to_internal_value(self, data: Any) -> Any:
        refuse_unknown_query_parameters(data, self.known_fields())
        return super().to_internal_value(data)


def known_query_parameters(view: Any) -> set[str]:
    """What a list view takes: the paginator's parameters, its ``query_fields`` and the fields
    of its ``query_serializer``."""
    known = set(PAGING) | set(getattr(view, "query_fields", ()))
    serializer = getattr(view, "query_serializer", None)
    if serializer is not None:
        known |= set(serializer().fields)
    return known


#: The fields of ``TransitionInputSerializer`` each step reads; a step refuses the others (a
#: ``message`` sent with ``approve`` would otherwise be dropped without a word).
STEP_FIELDS: dict[str, frozenset[str]] = {
    "attest": frozenset({"method", "need_confirmed"}),
    "decline_attestation": frozenset({"reason"}),
    "request_completion": frozenset({"message"}),
    "approve": frozenset({"items", "reason", "decision"}),
    "approve_partly": frozenset({"items", "reason", "decision"}),
    "reject": frozenset({"items", "reason", "decision"}),
    "schedule_payout": frozenset({"payee", "payees"}),
    "payout_failed": frozenset({"reason"}),
    "withdraw": frozenset({"reason"}),
    "give_up_payout": frozenset({"reason"}),
}


def refuse_fields_of_other_steps(name: str, data: Any) -> None:
    """400 naming each field of the step input that step ``name`` does not read."""
    if not isinstance(data, Mapping):
        return
    taken = STEP_FIELDS.get(name, frozenset())
    others = sorted(str(key) for key in data if key not in taken)
    if others:
        message = _("This step does not take this field.")
        raise ValidationError({key: [message] for key in others})


def unknown_field_check_escapes(serializer: serializers.BaseSerializer) -> list[str]:
    """Serializers (by class name) in ``serializer``'s tree that would accept an unknown key:
    the test that walks every request body of the schema uses it."""
    escapes: list[str] = []
    node: Any = serializer
    if isinstance(node, serializers.ListSerializer):
        node = node.child
    if not isinstance(node, serializers.Serializer):
        return escapes
    if not isinstance(node, StrictSerializer):
        escapes.append(type(node).__name__)
    for field in node.fields.values():
        if isinstance(field, serializers.BaseSerializer) and not field.read_only:
            escapes.extend(unknown_field_check_escapes(field))
    return escapes
