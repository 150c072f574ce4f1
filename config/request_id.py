"""A request id on every log line: the middleware sets it, the log filter adds it.

An incoming ``X-Request-ID`` (from the proxy) is kept when it is a short safe token, so one
id follows a request through proxy, web and logs; otherwise a new one is made. The response
carries it back in ``X-Request-ID``. Celery tasks log their task id in the same field.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_SAFE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current: ContextVar[str] = ContextVar("fundflow_request_id", default="-")


def current_request_id() -> str:
    return _current.get()


def set_request_id(value: str) -> object:
    """Set the id for this context (a task, a request); returns a token for ``reset``."""
    return _current.set(value)


def reset_request_id(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Kept until the request is finished: Django logs the response ("Bad Request: …")
        # after the middleware returned.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget(**_kw: object) -> None:
    _current.set("-")


request_finished.connect(_forget, dispatch_uid="fundflow.request_id.forget")


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True
