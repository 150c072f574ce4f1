"""API tokens for integrations, stored as hashes only.

A token is shown once when issued (``ff_<prefix>_<secret>``); the database keeps the prefix
(to find the row) and the SHA-256 of the whole token. The secret has 256 bits of entropy, so
a fast hash is enough: nobody can guess their way back from a leaked table.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "ff"  # noqa: S105 - a label, not a secret # nosec B105


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh ``(prefix, token)`` pair.

    The prefix names the token in the audit log, which refuses anything that reads like a
    personal identity number: twelve hex digits that happen to be all decimal digits (about
    one token in 300) could, so such a prefix is drawn again.
    """
    prefix = secrets.token_hex(6)
    while prefix.isdigit():
        prefix = secrets.token_hex(6)
    return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def split_token(token: str) -> str | None:
    """The lookup prefix of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    label = models.CharField(_("what it is for"), max_length=60)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{TOKEN_PREFIX}_{self.prefix}_… ({self.label})"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @staticmethod
    def digest_of(token: str) -> str:
        return token_digest(token)

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self.digest, token_digest(token))
