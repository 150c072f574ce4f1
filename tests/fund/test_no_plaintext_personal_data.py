"""No personal value is stored in plain text: search the raw database for them."""

import os
import subprocess

import pytest
from django.db import connection

from workflows import services

NAME = "Zelda Qwertyuiopsson"
PERSONNUMMER = "198112189876"
PHONE = "070-555 12 34"
DESCRIPTION = "Nya glasögon efter skadan i Malmö"


def _raw_database_bytes(tmp_path) -> bytes:
    if connection.vendor == "sqlite":
        target = tmp_path / "dump.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(target)])
        return target.read_bytes()
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    result = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"],
            settings["NAME"],
        ],
        env=env,
        capture_output=True,
        check=True,
    )
    return result.stdout


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seeded_name_and_personnummer_never_appear_in_the_raw_database(world, tmp_path):
    person = services.register_beneficiary(
        actor=world.ombud.user,
        name=NAME,
        personal_number="19811218-9876",
        contact=PHONE,
        protected_identity=True,
    )
    assert person.personal_data["name"] == NAME
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="1500", description=DESCRIPTION)],
    )
    assert app.items.get().description == DESCRIPTION
    world.to_paid(app)

    raw = _raw_database_bytes(tmp_path)
    assert person.reference.encode() in raw  # the search does see the data
    for value in (
        NAME,
        "Qwertyuiopsson",
        PERSONNUMMER,
        "19811218-9876",
        "811218",
        PHONE,
        DESCRIPTION,
    ):
        assert value.encode() not in raw, value
        assert value.encode("utf-16-le") not in raw, value


@pytest.mark.django_db
def test_personal_data_reads_back_after_reload(world):
    person = services.register_beneficiary(
        actor=world.ombud.user, name=NAME, personal_number="19811218-9876"
    )
    from fund.models import Beneficiary

    again = Beneficiary.objects.get(pk=person.pk)
    assert again.personal_data["name"] == NAME
    assert again.personal_data["personnummer"] == PERSONNUMMER
    assert again.personnummer_index and PERSONNUMMER not in again.personnummer_index
