"""Commands act as a named user, so the audit log says who ran them."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from fund.models import Beneficiary


def actor_named(username: str) -> Any:
    try:
        return get_user_model().objects.get(username=username, is_active=True)
    except get_user_model().DoesNotExist as exc:
        raise CommandError(f"No active user {username!r}.") from exc


def beneficiary_named(reference: str) -> Beneficiary:
    try:
        return Beneficiary.objects.get(reference=reference)
    except Beneficiary.DoesNotExist as exc:
        raise CommandError(f"No person with reference {reference!r}.") from exc
