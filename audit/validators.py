"""Codes typed by administrators that end up in the permanent audit log.

A fund's code, a dimension object's code and a project's code are written into events (as the
object reference or in the payload), and the log refuses anything but code-shaped text
(``audit.services``). Checking the same rule where the code is typed turns what would be a
failed save into a message on the form.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from audit.services import AuditPayloadError, check_loggable_text


def validate_loggable_code(value: str) -> None:
    try:
        check_loggable_text(value, "code")
    except AuditPayloadError:
        raise ValidationError(
            _(
                "“%(value)s” cannot be a code: use letters A-Z, digits and - _ . only, not a "
                "word written like a name (e.g. “esf-malmo” or “ESF1”, not “Malmo”)."
            ),
            params={"value": value},
            code="not_a_code",
        ) from None
