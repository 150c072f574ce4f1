"""The size limit of an uploaded file, checked on the file itself.

``config.request_limits`` refuses a request whose declared size is over the limit before it
is read; this validator catches a file that arrives without a declared size.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


def validate_upload_size(file: Any) -> None:
    limit = int(settings.UPLOAD_MAX_BYTES)
    if file.size is not None and file.size > limit:
        raise ValidationError(
            _("The file is %(size)s; at most %(max)s can be uploaded.")
            % {"size": filesizeformat(file.size), "max": filesizeformat(limit)},
            code="too_large",
        )
