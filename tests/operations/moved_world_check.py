"""After the move, as production runs: prove the moved world with the environment's keys.

``python -m tests.operations.moved_world_check REFERENCE`` (DATABASE_URL = the moved
PostgreSQL database, keys from the environment, no key files) verifies the audit chain,
checks the trial balance, decrypts every person, and registers the embedded world's
personnummer again through the real intake service: the person moved must come back as the
duplicate (blind index under BLIND_INDEX_KEY). Prints one ``name=value`` line per result.
"""

from __future__ import annotations

import os
import sys


def run(reference: str) -> dict[str, str]:
    from accounting.ledger import trial_balance
    from audit.verification import verify_chain
    from fund.models import Beneficiary, Ombud
    from tests.operations.embedded_world import PERSONNUMMER
    from workflows import services

    outcome = verify_chain()
    people = list(Beneficiary.objects.order_by("pk"))
    names = sorted(str(person.personal_data["name"]) for person in people)
    moved = Beneficiary.objects.get(reference=reference)
    ombud = moved.applications.get().ombud
    again = services.register_beneficiary(
        actor=Ombud.objects.get(pk=ombud.pk).user,
        name="Flytta Flyttsson",
        personal_number=PERSONNUMMER,
    )
    return {
        "chain_ok": str(outcome.ok),
        "chain_entries": str(outcome.entries),
        "balance": str(sum(trial_balance().values())),
        "names": "|".join(names),
        "duplicate_of": again.reference,
        "people": str(Beneficiary.objects.count()),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for key, value in run(sys.argv[1]).items():
        print(f"{key}={value}")
