"""`check_production` refuses what fails open beyond a missing key (review of issue #14):
a wrong key, shared payout and export folders, the demo password under another name, and a
weak blind-index key. Each message says what to do and never shows a key or a value."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet

from operations.production_checks import production_problems
from tests.config.test_run_prod_refuses import production  # noqa: F401 (fixture)
from tests.fixtures import UserFactory

PERSONNUMMER = "19811218-9876"


def _problems() -> str:
    return "\n".join(production_problems())


FIELD_KEY = Fernet.generate_key().decode()
INDEX_KEY = "the-blind-index-key-the-data-was-made-with"


@pytest.fixture
def stored_person(production, world, settings):  # noqa: F811
    """A person and a personnummer index stored under known production keys."""
    from core.crypto import reset_key_cache
    from workflows import services

    settings.FIELD_ENCRYPTION_KEYS = [FIELD_KEY]
    settings.BLIND_INDEX_KEY = INDEX_KEY
    reset_key_cache()
    try:
        person = world.new_application("500", name="Anna Nyckelsson").beneficiary
        indexed = services.register_beneficiary(
            actor=world.ombud.user, name="Berit Indexsson", personal_number=PERSONNUMMER
        )
        assert indexed.personnummer_index
        yield person
    finally:
        reset_key_cache()


@pytest.mark.django_db
def test_production_check_passes_with_the_keys_the_data_was_made_with(
    production,  # noqa: F811
    stored_person,
):
    assert production_problems() == []


@pytest.mark.django_db
def test_a_wrong_field_encryption_key_is_refused(production, stored_person, settings):  # noqa: F811
    wrong = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [wrong]
    problems = _problems()
    assert "FIELD_ENCRYPTION_KEYS cannot open the stored data keys" in problems
    assert "wrong key?" in problems and "restore" in problems
    assert wrong not in problems


@pytest.mark.django_db
def test_a_wrong_field_encryption_key_file_is_refused(production, stored_person, settings):  # noqa: F811
    other = production / "staging-field.key"
    other.write_bytes(Fernet.generate_key())
    other.chmod(0o600)
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_KEY_FILE = other
    problems = _problems()
    assert "cannot open the stored data keys" in problems and str(other) in problems


@pytest.mark.django_db
def test_the_old_key_after_the_new_one_still_opens_the_data_during_rotation(
    production,  # noqa: F811
    stored_person,
    settings,
):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), FIELD_KEY]
    assert production_problems() == []


@pytest.mark.django_db
def test_a_wrong_blind_index_key_is_refused(production, stored_person, settings):  # noqa: F811
    wrong = "another-blind-index-key-of-enough-length-0123456789"
    settings.BLIND_INDEX_KEY = wrong
    problems = _problems()
    assert "BLIND_INDEX_KEY does not match the stored personnummer indexes" in problems
    assert "rebuild_blind_index" in problems
    assert wrong not in problems and "9876" not in problems


@pytest.mark.django_db
def test_world_readable_payout_and_export_folders_and_files_are_refused(
    production,  # noqa: F811
    settings,
    tmp_path,
):
    payouts = tmp_path / "payouts"
    exports = tmp_path / "exports"
    for folder in (payouts, exports):
        folder.mkdir()
        os.chmod(folder, 0o755)  # noqa: S103 - the shared folder under test
    leaked = payouts / "FF-1.xml"
    leaked.write_bytes(b"<Id>33008112189876</Id>")
    os.chmod(leaked, 0o644)
    settings.PAYOUT_FILES_DIR = payouts
    settings.EXPORT_FILES_DIR = exports
    problems = _problems()
    assert f"The payout folder {payouts} can be entered or read by others (mode 0755)" in problems
    assert f"The export folder {exports} can be entered or read by others" in problems
    assert str(leaked) in problems and "chmod 600" in problems
    assert "33008112189876" not in problems


@pytest.mark.django_db
def test_owner_only_payout_and_export_folders_pass(production, settings, tmp_path):  # noqa: F811
    payouts = tmp_path / "payouts"
    (payouts / "2026").mkdir(parents=True, mode=0o700)
    payouts.chmod(0o700)
    bank_file = payouts / "2026" / "FF-1.xml"
    bank_file.write_bytes(b"<Document/>")
    bank_file.chmod(0o600)
    settings.PAYOUT_FILES_DIR = payouts
    settings.EXPORT_FILES_DIR = tmp_path / "not-made-yet"
    assert production_problems() == []


@pytest.mark.django_db
def test_a_file_others_can_read_deep_in_the_export_folder_is_refused(
    production,  # noqa: F811
    settings,
    tmp_path,
):
    exports = tmp_path / "exports"
    (exports / "sie").mkdir(parents=True, mode=0o700)
    exports.chmod(0o700)
    export = exports / "sie" / "2026.se"
    export.write_bytes(b"#FLAGGA 0")
    export.chmod(0o640)
    settings.EXPORT_FILES_DIR = exports
    assert str(export) in _problems()


@pytest.mark.django_db
def test_a_superuser_with_the_public_demo_password_is_refused(production):  # noqa: F811
    from demo.seed import DEMO_PASSWORD

    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    boss.set_password(DEMO_PASSWORD)
    boss.save()
    problems = _problems()
    assert "public demo password" in problems and "boss" in problems
    assert DEMO_PASSWORD not in problems.split("boss")[1]


@pytest.mark.django_db
def test_a_user_without_a_one_time_code_device_with_the_demo_password_is_refused(production):  # noqa: F811
    from demo.seed import DEMO_PASSWORD

    officer = UserFactory(username="handlaggare7", roles=["officer"])
    officer.set_password(DEMO_PASSWORD)
    officer.save()
    assert "handlaggare7" in _problems()


@pytest.mark.django_db
def test_other_passwords_and_inactive_users_pass_the_demo_password_check(production):  # noqa: F811
    from demo.seed import DEMO_PASSWORD

    strong = UserFactory(username="boss", is_superuser=True)
    strong.set_password("a-long-private-password-of-the-foundation")
    strong.save()
    gone = UserFactory(username="left-2024", is_active=False)
    gone.set_password(DEMO_PASSWORD)
    gone.save()
    assert production_problems() == []


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x", "short-index-key-31-characters.."])
def test_a_blind_index_key_shorter_than_32_characters_is_refused(production, settings, key):  # noqa: F811
    settings.BLIND_INDEX_KEY = key
    problems = _problems()
    assert "BLIND_INDEX_KEY is too short" in problems and "32" in problems
    assert f"({len(key)} characters)" in problems and repr(key) not in problems


@pytest.mark.django_db
def test_a_blind_index_key_equal_to_a_field_encryption_key_is_refused(production, settings):  # noqa: F811
    settings.BLIND_INDEX_KEY = settings.FIELD_ENCRYPTION_KEYS[0]
    assert "BLIND_INDEX_KEY must not be a field-encryption key" in _problems()
