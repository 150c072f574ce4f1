"""Keys fail closed (issue #14, defect 4): the personnummer index has its own key, a missing
key is never silently replaced while data under it exists, and key and database files are
readable by their owner only."""

from __future__ import annotations

import hashlib
import hmac
import io
import stat
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db.utils import ConnectionHandler

from audit.models import AuditEvent
from core import crypto
from fund.models import Beneficiary
from tests.fixtures import World
from workflows import services

NUMBER = "811218-9876"
TWELVE = "198112189876"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _secret_key_index(value: str) -> str:
    """The index as the old code made it: an HMAC under the public development SECRET_KEY."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def fresh_keys(settings, tmp_path: Path) -> Iterator[Path]:
    """Key files in an empty folder, generation allowed (the embedded mode), caches cleared."""
    keys = tmp_path / "keys"
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_KEY_FILE = keys / "field-encryption.key"
    settings.BLIND_INDEX_KEY = ""
    settings.BLIND_INDEX_KEY_FILE = keys / "blind-index.key"
    settings.GENERATE_MISSING_KEYS = True
    crypto.reset_key_cache()
    yield keys
    crypto.reset_key_cache()


# --- the personnummer index's own key -------------------------------------------------------


@pytest.mark.django_db
def test_blind_index_has_its_own_key_never_derived_from_secret_key(settings, fresh_keys):
    index = crypto.blind_index(TWELVE)
    assert index != _secret_key_index(TWELVE)
    key_file = fresh_keys / "blind-index.key"
    assert key_file.exists(), "generated with the other keys, into the keys folder"
    assert _mode(key_file) == 0o600
    assert _mode(fresh_keys) == 0o700
    settings.SECRET_KEY = "another-secret-key-" + "z" * 40
    crypto.reset_key_cache()
    assert crypto.blind_index(TWELVE) == index, "SECRET_KEY plays no part in the index"


def test_blind_index_key_comes_from_blind_index_key_setting_in_production(settings, tmp_path):
    settings.BLIND_INDEX_KEY = "production-blind-index-key"
    settings.BLIND_INDEX_KEY_FILE = tmp_path / "never-created.key"
    crypto.reset_key_cache()
    try:
        expected = hmac.new(b"production-blind-index-key", TWELVE.encode(), hashlib.sha256)
        assert crypto.blind_index(TWELVE) == expected.hexdigest()
        assert not (tmp_path / "never-created.key").exists()
    finally:
        crypto.reset_key_cache()


# --- a missing key is refused while data under it exists ------------------------------------


@pytest.mark.django_db
def test_missing_field_encryption_key_is_refused_when_encrypted_data_exists(
    world: World, settings, tmp_path
):
    person = world.new_application("500").beneficiary
    assert person.wrapped_key
    missing = tmp_path / "lost" / "field-encryption.key"
    settings.FIELD_ENCRYPTION_KEY_FILE = missing
    settings.GENERATE_MISSING_KEYS = True
    crypto.reset_key_cache()
    try:
        with pytest.raises(ImproperlyConfigured) as refused:
            Beneficiary.objects.get(pk=person.pk).personal_data  # noqa: B018
        message = str(refused.value)
        assert str(missing) in message
        assert "restore" in message.lower()
        assert not missing.exists(), "no new key that would make every person unreadable"
    finally:
        crypto.reset_key_cache()


@pytest.mark.django_db
def test_field_encryption_key_is_generated_only_on_a_database_without_wrapped_keys(fresh_keys):
    assert not Beneficiary.objects.exclude(wrapped_key="").exists()
    wrapped = crypto.new_wrapped_key()
    key_file = fresh_keys / "field-encryption.key"
    assert wrapped and key_file.exists()
    assert _mode(key_file) == 0o600
    assert _mode(fresh_keys) == 0o700


@pytest.mark.django_db
def test_missing_blind_index_key_is_refused_when_indexes_exist(world: World, settings, tmp_path):
    services.register_beneficiary(
        actor=world.ombud.user, name="Ada Andersson", personal_number=NUMBER
    )
    missing = tmp_path / "lost" / "blind-index.key"
    settings.BLIND_INDEX_KEY = ""
    settings.BLIND_INDEX_KEY_FILE = missing
    settings.GENERATE_MISSING_KEYS = True
    crypto.reset_key_cache()
    try:
        with pytest.raises(ImproperlyConfigured) as refused:
            crypto.blind_index(TWELVE)
        assert str(missing) in str(refused.value)
        assert "rebuild_blind_index" in str(refused.value)
        assert not missing.exists()
    finally:
        crypto.reset_key_cache()


@pytest.mark.django_db
def test_rebuild_blind_index_recomputes_indexes_from_the_decrypted_personnummer(
    world: World, settings, tmp_path
):
    """A demo database from before: its indexes were made with SECRET_KEY, no index key file."""
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Ada Andersson", personal_number=NUMBER
    )
    services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500", description="")],
    )
    Beneficiary.objects.filter(pk=person.pk).update(personnummer_index=_secret_key_index(TWELVE))
    new_key_file = tmp_path / "keys" / "blind-index.key"
    settings.BLIND_INDEX_KEY = ""
    settings.BLIND_INDEX_KEY_FILE = new_key_file
    crypto.reset_key_cache()
    try:
        call_command("rebuild_blind_index", verbosity=0)
        assert new_key_file.exists() and _mode(new_key_file) == 0o600
        rebuilt = Beneficiary.objects.get(pk=person.pk).personnummer_index
        assert rebuilt == crypto.blind_index(TWELVE) != _secret_key_index(TWELVE)
        event = AuditEvent.objects.filter(action="privacy.blind_index_rebuilt").get()
        assert event.payload["people"] == 1
        # Duplicates are found again: the same number typed anew is the same person.
        again = services.register_beneficiary(
            actor=world.ombud.user, name="Ada A.", personal_number="19811218-9876"
        )
        assert again.pk == person.pk
    finally:
        crypto.reset_key_cache()


# --- files readable by their owner only ----------------------------------------------------


def _connect(path: Path) -> None:
    handler = ConnectionHandler({"default": dj_database_url.parse(f"sqlite:///{path}")})
    try:
        handler["default"].ensure_connection()
    finally:
        handler.close_all()


@pytest.mark.django_db
def test_sqlite_database_file_is_created_readable_by_its_owner_only(tmp_path):
    created = tmp_path / "new.sqlite3"
    _connect(created)
    assert created.exists()
    assert _mode(created) == 0o600


@pytest.mark.django_db
def test_an_existing_world_readable_sqlite_file_is_made_owner_only(tmp_path):
    existing = tmp_path / "old.sqlite3"
    existing.touch()
    existing.chmod(0o644)
    _connect(existing)
    assert _mode(existing) == 0o600


@pytest.mark.django_db
def test_a_shared_sqlite_file_on_a_read_only_disk_still_opens_so_reads_are_served(
    tmp_path, monkeypatch, caplog
):
    """Issue #18, failing well: a read-only disk must not turn every request into a 500
    because the file's mode cannot be tightened; production checks still name the mode."""
    import errno

    existing = tmp_path / "old.sqlite3"
    existing.touch()
    existing.chmod(0o644)

    def read_only_disk(self: Path, mode: int) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "chmod", read_only_disk)
    with caplog.at_level("WARNING", logger="fundflow.security"):
        _connect(existing)
        _connect(existing)
    assert _mode(existing) == 0o644
    warnings = [r for r in caplog.records if "cannot be made owner-only" in r.getMessage()]
    assert len(warnings) == 1, "one warning per file, not one per connection"
    assert str(existing) in warnings[0].getMessage()


def test_embedded_mode_folders_are_owner_only(settings, tmp_path):
    from core.file_modes import secure_embedded_folders

    settings.PAYOUT_FILES_DIR = tmp_path / "payouts"
    settings.EXPORT_FILES_DIR = tmp_path / "exports"
    settings.FIELD_ENCRYPTION_KEY_FILE = tmp_path / "keys" / "field-encryption.key"
    settings.EXPORT_FILES_DIR.mkdir(mode=0o755)
    settings.EXPORT_FILES_DIR.chmod(0o755)
    secure_embedded_folders()
    for folder in ("payouts", "exports", "keys"):
        assert _mode(tmp_path / folder) == 0o700, folder


@pytest.mark.django_db
def test_seed_demo_gives_an_old_demo_database_its_own_index_key(world: World, settings, tmp_path):
    """`make run` on a demo database from before: its indexes are recomputed, not refused."""
    person = services.register_beneficiary(
        actor=world.ombud.user, name="Ada Andersson", personal_number=NUMBER
    )
    Beneficiary.objects.filter(pk=person.pk).update(personnummer_index=_secret_key_index(TWELVE))
    settings.BLIND_INDEX_KEY = ""
    settings.BLIND_INDEX_KEY_FILE = tmp_path / "keys" / "blind-index.key"
    crypto.reset_key_cache()
    try:
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
        assert Beneficiary.objects.get(pk=person.pk).personnummer_index == crypto.blind_index(
            TWELVE
        )
        assert _mode(settings.BLIND_INDEX_KEY_FILE) == 0o600
    finally:
        crypto.reset_key_cache()


@pytest.mark.django_db
def test_missing_field_encryption_key_is_refused_when_only_bank_file_nonces_depend_on_it(
    world: World, fresh_keys
):
    """Second review of issue #14 (L1): every person erased, yet an exported bank file's
    nonce is still wrapped by the master key; a new key would make it unreadable for good."""
    from accounting.models import PaymentBatch
    from accounting.payouts import batches

    app = world.run(
        world.to_approved(world.new_application("300")), "schedule_payout", world.treasurer
    )
    batch = batches.approve_batch(
        batches.create_batch(actor=world.treasurer, applications=[app]), actor=world.treasurer2
    )
    batches.export_batch(batch, actor=world.treasurer)
    assert PaymentBatch.objects.get(pk=batch.pk).wrapped_file_nonce
    Beneficiary.objects.update(wrapped_key="", encrypted_personal_data="")  # all erased
    key_file = fresh_keys / "field-encryption.key"
    key_file.unlink()
    crypto.reset_key_cache()

    with pytest.raises(ImproperlyConfigured) as refused:
        crypto.master_cipher()
    assert str(key_file) in str(refused.value)
    assert not key_file.exists(), "no new key that would leave the bank files' nonces unreadable"
