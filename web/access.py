"""Who may open which page: login, the second factor for staff, and the page's roles.

Every view in :mod:`web.views` is wrapped in :func:`page`, which names the roles allowed.
Case scope (which application) is checked by the selectors and services the view calls.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase

from core.roles import Role, roles_of

#: Roles that must sign in with a second factor (TOTP).
STAFF_ROLES = frozenset(
    {Role.OFFICER, Role.DECISION_MAKER, Role.TREASURER, Role.AUDITOR, Role.ADMINISTRATOR}
)
HANDLERS = (Role.OFFICER, Role.DECISION_MAKER)


def needs_second_factor(user: Any) -> bool:
    """Staff roles, and anyone who can open the admin, sign in with a one-time code."""
    admin_access = getattr(user, "is_staff", False) or getattr(user, "is_superuser", False)
    return bool(roles_of(user) & STAFF_ROLES) or bool(admin_access)


def is_fully_authenticated(user: Any) -> bool:
    """Signed in, and verified with a one-time code when the user is staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    if needs_second_factor(user):
        is_verified = getattr(user, "is_verified", None)
        return bool(is_verified and is_verified())
    return True


View = Callable[..., HttpResponseBase]


def page(*roles: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Guard a view: signed in (with OTP for staff), one of ``roles``, allowed HTTP methods."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not is_fully_authenticated(request.user):
                return redirect_to_login(request.get_full_path())
            if roles and not roles_of(request.user) & set(roles):
                raise PermissionDenied
            if request.method not in methods and request.method != "HEAD":
                return HttpResponseNotAllowed(methods)
            return view(request, *args, **kwargs)

        wrapper.page_roles = frozenset(roles)  # type: ignore[attr-defined]
        wrapper.page_methods = methods  # type: ignore[attr-defined]
        return wrapper

    return decorator
