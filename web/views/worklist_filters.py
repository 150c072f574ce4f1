"""Saving and deleting the worklist filters a user keeps for themselves."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from core.exceptions import WorkflowError
from core.inputs import as_id
from web.access import HANDLERS, page
from web.forms import SavedFilterForm
from web.saved_filters import delete_filter, known_filter_query, save_filter, saved_filters
from web.views.common import show_refusal


def _worklist(query: str = "") -> str:
    return reverse("web:worklist") + (f"?{query}" if query else "")


@page(*HANDLERS, methods=("POST",))
def save_filter_view(request: HttpRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    query = known_filter_query(str(request.POST.get("query", ""))[:2000])
    if not form.is_valid():
        messages.error(request, _("Give the filter a name."))
        return redirect(_worklist(query))
    try:
        saved = save_filter(
            actor=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
        )
    except WorkflowError as error:
        show_refusal(request, error)
        return redirect(_worklist(query))
    messages.success(request, _("The filter “%(name)s” is saved.") % {"name": saved.name})
    return redirect(_worklist(saved.query))


@page(*HANDLERS, methods=("POST",))
def delete_filter_view(request: HttpRequest) -> HttpResponse:
    pk = as_id(str(request.POST.get("filter", "")))
    saved = saved_filters(request.user).filter(pk=pk).first() if pk else None
    if saved is None:
        messages.error(request, _("That filter does not exist (any more)."))
        return redirect(_worklist())
    delete_filter(saved, actor=request.user)
    messages.success(request, _("The filter “%(name)s” is deleted.") % {"name": saved.name})
    return redirect(_worklist())
