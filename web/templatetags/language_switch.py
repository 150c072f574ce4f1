"""Where the language switch in the header sends the user back to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

register = template.Library()


@register.simple_tag(takes_context=True)
def language_next(context: dict[str, Any]) -> str:
    """This page, if a GET opens it again; else the page the form was sent from, or home.

    A page shown in answer to a form may sit at an address that only takes forms: going
    back there after switching the language would answer 405 ("method not allowed").
    """
    request: HttpRequest | None = context.get("request")
    if request is None:
        return reverse("web:home")
    if request.method in ("GET", "HEAD") or _answers_get(request):
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse("web:home")


def _answers_get(request: HttpRequest) -> bool:
    """The page's view takes GET (web.access.page records the methods of every page)."""
    match = request.resolver_match
    methods = getattr(match.func, "page_methods", ()) if match else ()
    return "GET" in methods
