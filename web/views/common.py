"""Helpers shared by the views."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.forms.formsets import BaseFormSet
from django.http import HttpRequest

from core.exceptions import WorkflowError


def show_refusal(request: HttpRequest, error: WorkflowError) -> None:
    """A service's refusal, shown to the user as the service worded it."""
    for message in error.messages:
        messages.error(request, message)


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request asks for a page fragment (django-htmx sets ``request.htmx``)."""
    return bool(getattr(request, "htmx", False))


def form_problems(request: HttpRequest, form: Any) -> None:
    """A form's (or a formset's) errors as messages, each with its field's label."""
    if isinstance(form, BaseFormSet):
        for error in form.non_form_errors():
            messages.error(request, str(error))
        for each in form:
            form_problems(request, each)
        return
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))
