"""Login with password and, for staff, a TOTP one-time code; throttled by django-axes."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib.auth import authenticate, login, logout, user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token

from core.roles import Role, roles_of
from web.access import is_fully_authenticated, needs_second_factor
from web.forms import LoginForm

#: Where each role starts, in order of precedence.
START_PAGES = (
    (Role.OFFICER, "web:worklist"),
    (Role.DECISION_MAKER, "web:worklist"),
    (Role.TREASURER, "web:treasury"),
    (Role.AUDITOR, "web:audit_home"),
    (Role.OMBUD, "web:ombud_home"),
    (Role.ADMINISTRATOR, "web:dashboard"),
)


def refusal() -> str:
    """One answer for a wrong user name, password or one-time code (missing or wrong).

    A different answer to a right password without its code would confirm the password.
    """
    return _("Wrong user name, password or one-time code.")


def start_page(user: Any) -> str:
    roles = roles_of(user)
    for role, name in START_PAGES:
        if role in roles:
            return reverse(name)
    return reverse("web:no_role")


def _failed(request: HttpRequest, username: str) -> None:
    """Count a failed second factor like a failed password (axes listens to this signal)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


@sensitive_post_parameters()
@sensitive_variables()
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    if request.method == "GET" and is_fully_authenticated(request.user):
        return redirect(next_url or start_page(request.user))
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        credentials = {"username": username}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return get_lockout_response(request, None, credentials)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            error = refusal()
        elif needs_second_factor(user):
            device = match_token(user, form.cleaned_data["otp_token"].strip())
            if device is None:
                _failed(request, username)
                error = refusal()
            else:
                login(request, user)
                otp_login(request, device)
        else:
            login(request, user)
        if not error:
            return redirect(next_url or start_page(user))
        if not AxesProxyHandler.is_allowed(request, credentials):
            return get_lockout_response(request, None, credentials)
    return render(
        request,
        "web/login.html",
        {"form": form, "error": error, "next": next_url},
        status=400 if error else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


def home(request: HttpRequest) -> HttpResponse:
    if not is_fully_authenticated(request.user):
        return redirect("web:login")
    return redirect(start_page(request.user))


def no_role(request: HttpRequest) -> HttpResponse:
    if not is_fully_authenticated(request.user):
        return redirect("web:login")
    return render(request, "web/no_role.html")
