"""What the lower apps report for monitoring: exports run, bank answers read.

The metrics live in ``operations`` (the top of the layers), so the apps below cannot call
them; they report here, and ``operations.apps`` registers the observer that counts. Without
an observer (a script, a test of a lower app) reporting costs nothing. Only fixed codes are
ever reported — export kinds and outcome names, never a reference or a value.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from core.exceptions import WorkflowError

#: Told of every export: its kind, how long it took (seconds) and its outcome (``ok``,
#: ``refused`` — a domain refusal the user is told of — or ``failed``).
ExportObserver = Callable[[str, float, str], None]
#: Told of every bank file read: how many payments it said what about (outcome → count).
BankAnswerObserver = Callable[[Mapping[str, int]], None]

logger = logging.getLogger("fundflow.metrics")

_export_observers: list[ExportObserver] = []
_bank_answer_observers: list[BankAnswerObserver] = []


def on_export(observer: ExportObserver) -> None:
    if observer not in _export_observers:
        _export_observers.append(observer)


def on_bank_answer(observer: BankAnswerObserver) -> None:
    if observer not in _bank_answer_observers:
        _bank_answer_observers.append(observer)


@contextmanager
def timed_export(kind: str) -> Iterator[None]:
    """Time one export of ``kind`` (a fixed code).

    A refusal (the year is not closed, the user may not export) is the user's to fix and is
    reported as ``refused``; any other exception, a full disk included, as ``failed``.
    """
    started = time.perf_counter()
    try:
        yield
    except WorkflowError:
        _tell_export(kind, time.perf_counter() - started, "refused")
        raise
    except BaseException:
        _tell_export(kind, time.perf_counter() - started, "failed")
        raise
    _tell_export(kind, time.perf_counter() - started, "ok")


def _tell_export(kind: str, seconds: float, outcome: str) -> None:
    for observer in _export_observers:
        try:
            observer(kind, seconds, outcome)
        except Exception:  # counting must never fail the export
            logger.exception("export metrics not recorded")


def bank_answer_read(outcomes: Mapping[str, int]) -> None:
    """A bank file was read: ``outcomes`` counts its payments by a fixed outcome name."""
    for observer in _bank_answer_observers:
        try:
            observer(outcomes)
        except Exception:  # counting must never fail the import
            logger.exception("bank answer metrics not recorded")
