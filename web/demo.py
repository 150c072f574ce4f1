"""Demo second factors: a TOTP device for every demo staff user, with one documented secret.

DEMO ONLY. The secret below is public (it is RFC 6238's test key), so anyone can compute the
codes; a real installation enrols each person's own authenticator app.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from web.access import needs_second_factor

#: RFC 6238's test secret "12345678901234567890", as hex (django-otp) and base32 (apps).
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
DEMO_TOTP_SECRET_BASE32 = base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()
DEVICE_NAME = "demo"


def current_code(key_hex: str = DEMO_TOTP_KEY_HEX) -> str:
    return f"{totp(bytes.fromhex(key_hex)):06d}"


def seed_devices(stdout: Callable[[str], Any] = print) -> int:
    """Give every active staff user without a device the demo TOTP device; prints how to use it."""
    made = 0
    for user in get_user_model().objects.filter(is_active=True).order_by("username"):
        if not needs_second_factor(user):
            continue
        _device, created = TOTPDevice.objects.get_or_create(
            user=user,
            name=DEVICE_NAME,
            defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True},
        )
        made += int(created)
    stdout(
        "Staff sign in with a one-time code (TOTP). Demo secret for every demo staff user "
        f"(demo only): {DEMO_TOTP_SECRET_BASE32} — add it to an authenticator app, or run "
        "`python manage.py demo_totp` for the current code."
    )
    return made
