"""The demo seed covers every state, is idempotent, and leaves no plain personal data."""

from collections import Counter

import pytest
from django.core.management import call_command

from fund.models import Application, Fund, ProtectedIdentityGrant
from fund.states import State


@pytest.mark.django_db
def test_seed_demo_covers_every_state_and_is_idempotent():
    call_command("seed_demo", verbosity=0)
    states = Counter(Application.objects.values_list("state", flat=True))
    assert set(states) == set(State.values)
    assert sum(states.values()) >= 30
    assert set(Fund.objects.values_list("code", flat=True)) >= {"barnfonden", "egenforsorjning"}
    from cofinancing.models import Project

    assert Project.objects.filter(code="ESF-EQ-2005").exists()
    grant = ProtectedIdentityGrant.objects.get()
    assert (grant.grantee.username, grant.granted_by.username) == ("officer", "decider")
    assert grant.application.beneficiary.protected_identity
    call_command("seed_demo", verbosity=0)
    assert Application.objects.count() == sum(states.values())
    assert ProtectedIdentityGrant.objects.count() == 1
    assert Project.objects.count() == 1


@pytest.mark.django_db
def test_the_demo_closes_its_periods_with_two_treasurers():
    """Issue #19's four eyes hold in the demo too: no period closed by one treasurer alone."""
    from accounting.models import Period, PeriodCloseRequest

    call_command("seed_demo", verbosity=0)
    closed = Period.objects.filter(closed_at__isnull=False)
    requests = PeriodCloseRequest.objects.filter(period__in=closed, approved_by__isnull=False)

    assert closed.count() == 48  # 2005-2008, twelve months each
    assert requests.count() == closed.count()
    assert all(r.approved_by_id != r.proposed_by_id for r in requests)
