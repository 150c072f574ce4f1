"""Issue #15, trusted time: event and checkpoint times never run backwards beyond a tolerance."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from audit.chain import Problem
from audit.checkpoints import create_checkpoint
from audit.verification import verify_chain
from tests.audit.conftest import append

pytestmark = pytest.mark.evidence("tamper")


@contextmanager
def clock_set_back(seconds: float):
    """The server's clock, stepped back (a bad NTP step, or an operator back-dating)."""
    real = timezone.now
    with mock.patch("django.utils.timezone.now", lambda: real() - timedelta(seconds=seconds)):
        yield


def test_event_times_may_not_go_backwards_beyond_the_tolerance(chain, settings):
    settings.AUDIT_CLOCK_TOLERANCE_SECONDS = 120
    append(3)
    with clock_set_back(3600):
        append(1)
    append(1)
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.sequence, outcome.broken.problem) == (4, Problem.CLOCK)
    assert "3600 s before entry 3" in outcome.broken.detail


def test_a_clock_step_within_the_tolerance_is_accepted(chain, settings):
    settings.AUDIT_CLOCK_TOLERANCE_SECONDS = 120
    append(2)
    with clock_set_back(30):
        append(2)
    assert verify_chain().ok


def test_a_checkpoint_dated_before_its_last_event_is_reported(chain, settings):
    settings.AUDIT_CLOCK_TOLERANCE_SECONDS = 120
    append(3)
    with clock_set_back(3600):
        create_checkpoint()
    outcome = verify_chain()
    assert outcome.broken is not None
    assert outcome.broken.problem == Problem.CLOCK
    assert "the checkpoint at 3" in outcome.broken.detail


def test_an_event_dated_before_the_checkpoint_that_precedes_it_is_reported(chain, settings):
    settings.AUDIT_CLOCK_TOLERANCE_SECONDS = 120
    append(2)
    create_checkpoint()
    with clock_set_back(3600):
        append(1)
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.sequence, outcome.broken.problem) == (3, Problem.CLOCK)
    assert "the checkpoint at 2" in outcome.broken.detail
