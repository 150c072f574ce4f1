"""A small embedded world in a SQLite file: run as a script, as the embedded mode would run.

``python -m tests.operations.embedded_world`` migrates the SQLite database named by
DATABASE_URL (keys generated into FUNDFLOW_VAR_DIR/keys/, as in embedded mode) and walks
three cases to paid — vouchers posted and sealed, payees approved, bank files, audit events
— registers the first person's personnummer again (a duplicate found by the blind index),
closes the periods up to today's and signs a checkpoint.
"""

from __future__ import annotations

import os

#: The personnummer of the first person; tests/operations/test_move_to_postgres.py registers
#: it again after the move and expects the same person back.
PERSONNUMMER = "19811218-9876"


def run() -> str:
    """Build the world; returns the first person's reference."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.utils import timezone

    from accounting.ledger import close_period
    from accounting.models import Period
    from audit.checkpoints import create_checkpoint
    from tests.fixtures import make_world
    from workflows import services

    world = make_world()
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Flytta Flyttsson", personal_number=PERSONNUMMER, region="AB"
    )
    first = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="1500.50", description="glasögon")],
    )
    world.to_paid(first)
    world.to_paid(world.new_application("2500", "700", name="Andra Andersson"))
    world.to_paid(world.new_application("999.99", name="Tredje Tredjesson"))
    again = services.register_beneficiary(
        actor=world.ombud.user, name="Flytta Flyttsson", personal_number="198112189876"
    )
    assert again.pk == person.pk, "the duplicate was not found before the move"
    today = timezone.localdate()
    for period in Period.objects.filter(start__lte=today).order_by("start"):
        close_period(period, actor=world.treasurer)
    assert create_checkpoint() is not None
    return person.reference


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(f"PERSON {run()}")
