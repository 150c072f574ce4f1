"""Issue #13: what the money-path state machine found, each shrunk to a plain test.

Each test is the sequence Hypothesis shrank a failing example to
(``tests/lifecycle/test_money_path_state_machine.py``), written with the ``world`` fixture.
They are marked ``xfail(strict=True)`` until the defect's fix lands on the main branch; the
coordinator removes the mark when merging the fix (a strict xfail that passes fails the run).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from fund.models import OmbudStatus
from fund.privacy import read_personal_data
from fund.services import set_ombud_status
from tests.fixtures import World
from workflows.exceptions import PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.mark.xfail(strict=True, reason="issue #13 defect 8: a revoked ombud keeps access")
def test_revoked_ombud_loses_case_scope_at_once(world: World) -> None:
    """Found as: create_case(ombud) -> revoke_ombud(admin) -> read_person(ombud)."""
    app = world.new_application("1500")
    set_ombud_status(world.admin, world.ombud, status=OmbudStatus.REVOKED)
    revoked = User.objects.get(pk=world.ombud.user_id)  # as the next request would load them
    with pytest.raises(PermissionDenied):
        read_personal_data(revoked, app.beneficiary, application=app)
