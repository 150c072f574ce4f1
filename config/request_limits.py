"""Refuse a request body that is too large before anything reads it.

The limit comes from the body's declared ``Content-Length``: a file upload
(``multipart/form-data``) may be ``UPLOAD_MAX_BYTES`` plus room for the form's other fields,
a raw XML file (the API's bank-file upload) ``UPLOAD_MAX_BYTES``;
any other body (forms, JSON) ``DATA_UPLOAD_MAX_MEMORY_SIZE``. Above it the answer is
413 at once — a JSON error under ``/api/``, a short page elsewhere — and the body is never
read, so a 1 GB upload costs neither memory nor disk. The middleware sits before the CSRF
check, which would otherwise parse the body first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.html import escape
from django.utils.translation import gettext as _

#: Room for a multipart body's boundaries, headers and small fields besides the file.
MULTIPART_OVERHEAD = 64 * 1024

#: Bodies that are a file as it came (the API's bank-file upload): the upload limit applies.
RAW_FILE_TYPES = ("application/xml", "text/xml")


def body_limit(request: HttpRequest) -> tuple[int, int]:
    """The most bytes this request's body may have, and the limit as people are told it
    (the file's limit, for an upload)."""
    if request.content_type == "multipart/form-data":
        upload = int(settings.UPLOAD_MAX_BYTES)
        return upload + MULTIPART_OVERHEAD, upload
    if request.content_type in RAW_FILE_TYPES:
        upload = int(settings.UPLOAD_MAX_BYTES)
        return upload, upload
    body = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return body, body


def declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large_message(size: int, limit: int) -> str:
    return _("The request is %(size)s; at most %(max)s can be sent at once.") % {
        "size": filesizeformat(size),
        "max": filesizeformat(limit),
    }


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        size, (limit, told) = declared_length(request), body_limit(request)
        if size > limit:
            return self.refuse(request, too_large_message(size, told))
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            body = {"detail": message, "code": "request_too_large", "messages": [message]}
            response: HttpResponse = JsonResponse(body, status=413)
        else:
            page = f"<!doctype html><title>413</title><h1>413</h1><p>{escape(message)}</p>"
            response = HttpResponse(page, status=413, content_type="text/html; charset=utf-8")
        return response
