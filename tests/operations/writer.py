"""Writes cases, people and audit events into the database DATABASE_URL names (a subprocess).

``python -m tests.operations.writer seed N``: the test world (users, a fund with income, the
ombud's organisation payee) and N people, each with a person payee and a case walked to paid.
``python -m tests.operations.writer load PROGRESS STOP``: new people and cases, one after the
other, each in its own transaction, until the file STOP exists; after each it rewrites
PROGRESS with how many it wrote. The names and numbers are in PEOPLE (the tests look for
them in the commands' output).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402

# As in the test session (tests/conftest.py): real hashing costs ~0.3 s for each user.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

from django.contrib.auth.models import User  # noqa: E402
from stdnum import luhn  # noqa: E402

from accounting.payees import approve_payee, create_payee  # noqa: E402
from fund.models import Application, Fund, Ombud  # noqa: E402
from tests.fixtures import make_world  # noqa: E402
from workflows import services  # noqa: E402
from workflows.services import NeedInput  # noqa: E402

#: The personal values the seed writes (never to appear in a command's output).
PEOPLE = [("Ingrid Backupsson", "19811218-9876"), ("Omar Återställ", "19900101-0017")]
LOAD_NAME = "Lastad Skrivarsson"


def personnummer(serial: int) -> str:
    """A valid personnummer, different for each serial (born 1970-01-01 + serial % 28 days)."""
    body = f"7001{1 + serial % 28:02d}{serial % 1000:03d}"
    return f"19{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def _apply(ombud_user: User, fund: Fund, name: str, number: str) -> Application:
    person = services.register_beneficiary(
        actor=ombud_user, name=name, personal_number=number, region="AB"
    )
    items = [NeedInput(category="glasses", amount="900", description="behov")]
    return services.create_application(actor=ombud_user, fund=fund, beneficiary=person, items=items)


def seed(count: int) -> None:
    world = make_world()
    for position in range(count):
        name, number = PEOPLE[position % len(PEOPLE)]
        number = number if position < len(PEOPLE) else personnummer(500 + position)
        app = _apply(world.ombud.user, world.fund, name, number)
        payee = create_payee(
            actor=world.treasurer,
            kind="person",
            person_name=name,
            method="iban",
            account="SE3250000000000058398250",
            bic="ESSESESS",
            beneficiary=app.beneficiary,
        )
        approve_payee(payee, actor=world.treasurer2)
        world.to_paid(app)


def load(progress: Path, stop: Path) -> None:
    ombud_user = Ombud.objects.select_related("user").order_by("pk").first().user  # type: ignore[union-attr]
    fund = Fund.objects.get(code="allmant")
    written = 0
    while not stop.exists():
        _apply(ombud_user, fund, LOAD_NAME, personnummer(written))
        written += 1
        # Written whole and renamed, so a reader never sees it empty half-way.
        partial = progress.with_name(progress.name + ".partial")
        partial.write_text(str(written))
        partial.replace(progress)


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    else:
        load(Path(sys.argv[2]), Path(sys.argv[3]))
