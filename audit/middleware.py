"""A checkpoint for the idle tail: the first request after a quiet spell makes it when due.

Appends trigger checkpoints after their commit (:mod:`audit.checkpoints`), but events
that stop short of the threshold would wait for the next append. This middleware looks —
at most once a minute per process, after the response is ready — whether the latest
checkpoint is ``AUDIT_CHECKPOINT_EVERY_MINUTES`` old while events came after it, so the
embedded mode needs no scheduler. With a broker, the task does the work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

from audit.checkpoints import checkpoint_if_due
from core.database_incidents import note_failure, unavailable_error

logger = logging.getLogger("fundflow.audit")

#: Seconds between two looks in one process.
LOOK_EVERY_SECONDS = 60.0

View = TypeVar("View", bound=Callable[..., Any])


def no_idle_checkpoint(view: View) -> View:
    """For endpoints promised to write nothing (monitoring scrapes, probes): a request to
    them never makes the idle tail's checkpoint."""
    view.no_idle_checkpoint = True  # type: ignore[attr-defined]
    return view


def _writes_nothing(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and getattr(match.func, "no_idle_checkpoint", False)


class CheckpointWhenDueMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.next_look = 0.0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        now = time.monotonic()
        if response.status_code < 500 and now >= self.next_look and not _writes_nothing(request):
            self.next_look = now + LOOK_EVERY_SECONDS
            try:
                checkpoint_if_due()
            except Exception as exc:  # the page is ready; a checkpoint failure is recorded here
                outage = unavailable_error(exc)
                if outage is not None:
                    note_failure(outage)  # a full or read-only disk: counted, logged once
                else:
                    logger.exception("checkpoint on an idle tail failed")
        return response
