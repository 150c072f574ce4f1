"""``Authorization: Token ff_<prefix>_<secret>`` against hashed, revocable, expiring tokens,
and the browser's session, for staff only once they passed the one-time code."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import Error
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ApiToken, split_token
from core.database_incidents import note_failure, unavailable_error
from web.access import is_fully_authenticated

#: ``last_used_at`` is written at most this often per token (no write per request).
TOUCH_EVERY = timedelta(minutes=5)


class HashedTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            token = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        prefix = split_token(token)
        api_token = (
            ApiToken.objects.select_related("user").filter(prefix=prefix).first()
            if prefix
            else None
        )
        if api_token is None or not api_token.matches(token) or not api_token.is_usable:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        if not api_token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if api_token.last_used_at is None or api_token.last_used_at < now - TOUCH_EVERY:
            _touch(api_token, now)
        return api_token.user, api_token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def _touch(api_token: ApiToken, now: datetime) -> None:
    """Note the token's use, if the database takes writes: a read must not fail for this."""
    try:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    except Error as exc:
        if unavailable_error(exc) is None:
            raise
        note_failure(exc)


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in session (with CSRF for writes), as on the pages: staff need their code.

    A session that has not passed the second factor (a staff role given after signing in)
    counts as no authentication at all, like the pages' redirect to the sign-in.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None or not is_fully_authenticated(result[0]):
            return None
        return result


class HashedTokenScheme(OpenApiAuthenticationExtension):
    target_class = HashedTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token ff_…` — issue one with `manage.py api_token issue <user>`.",
        }


class VerifiedSessionScheme(SessionScheme):
    target_class = "api.authentication.VerifiedSessionAuthentication"
