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
