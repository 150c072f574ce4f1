"""A fund with money, its staff and an ombud in the bench database, as the test ``world``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast


def bench_world() -> Any:
    """A fresh fund (no earlier runs' cases in it) with the test world's users and payee."""
    from django.conf import settings
    from django.contrib.auth.models import User

    from accounting.ledger import record_income
    from accounting.payees import approve_payee, create_payee
    from fund.models import Fund, Ombud, Organisation
    from tests.factories import FundFactory, OmbudFactory, OrganisationFactory, UserFactory
    from tests.fixtures import World

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The bench database outlives a run: continue the factories' numbering after it.
    UserFactory.reset_sequence(User.objects.count() + 1)
    OrganisationFactory.reset_sequence(Organisation.objects.count() + 1)
    fund = cast(
        Fund,
        FundFactory(
            code=f"bench-audit-{Fund.objects.count()}",
            accounting_dimension=f"BA{Fund.objects.count()}",
            two_signature_threshold=Decimal("100000"),
        ),
    )
    users = {n: cast(User, UserFactory(roles=[r])) for n, r in [
        ("officer", "officer"), ("officer2", "officer"), ("decider", "decision_maker"),
        ("decider2", "decision_maker"), ("treasurer", "treasurer"),
        ("treasurer2", "treasurer"), ("auditor", "auditor"), ("admin", "administrator"),
    ]}  # fmt: skip
    fund.handlers.add(users["officer"], users["officer2"], users["decider"], users["decider2"])
    ombud = cast(Ombud, OmbudFactory())
    record_income(
        fund, "1000000000", kind="donation", actor=users["treasurer"], reference="BENCH-1"
    )
    payee = create_payee(
        actor=users["treasurer"],
        kind="organisation",
        name="Socialtjänsten",
        method="bankgiro",
        account="5678-1230",
        organisation=ombud.organisation,
    )
    approve_payee(payee, actor=users["treasurer2"])
    return World(fund=fund, ombud=ombud, **users)
