"""What depends on a key, so a lost key is never silently replaced, and the personnummer index
rebuilt under its own key.

``core.crypto`` generates a missing key file (embedded mode) only when nothing in the database
was made with it: no wrapped data key and no master-wrapped secret (a bank file's nonce) for
the field-encryption key (every key holder and ``MASTER_WRAPPED`` column in
``fund.token_fields``, the key canary among them), no personnummer index and no key canary for
the blind-index key; ``audit.signing`` likewise for the audit signing key, its canary and
the signed checkpoints.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.views.decorators.debug import sensitive_variables
from stdnum.se import personnummer

from audit.services import record_event
from core.crypto import DecryptionFailed, blind_index, decrypt_json, reset_key_cache, twelve_digits
from core.file_modes import owner_only_folder
from fund.models import Beneficiary, KeyCanary, KeyCanaryKind
from fund.name_index import name_index
from fund.token_fields import KEY_HOLDERS, MASTER_WRAPPED

#: What the field-encryption key canary wraps and the blind-index canary hashes: a known,
#: public constant (a canary proves which key made it and hides nothing). No whitespace,
#: ``-`` or ``+``, so ``blind_index`` hashes it unchanged.
CANARY_MARKER = "fundflow.key.canary.v1"


def blind_index_canary() -> str:
    """The blind-index key canary under today's key (``fund.KeyCanary``)."""
    return blind_index(CANARY_MARKER)


#: Every column holding a blind index (an HMAC under the blind-index key): (model, field).
BLIND_INDEX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("fund.Beneficiary", "personnummer_index"),
    ("fund.Beneficiary", "name_index"),
)


def _any_filled(label: str, field: str) -> bool:
    """Whether any row of ``label`` has a non-empty ``field``; True when that cannot be told.

    Fail closed: a table or column not there yet (an unmigrated database) counts as no
    rows, but any other database error counts as data present, so no key is generated.
    """
    model: type[Model] = apps.get_model(label)
    if model._meta.db_table not in connection.introspection.table_names():
        return False
    try:
        with transaction.atomic():
            return model._default_manager.filter(**{f"{field}__gt": ""}).exists()
    except DatabaseError:
        return True


def encrypted_data_exists() -> bool:
    """Whether any row holds something wrapped by the master keys: a data key (so personal
    data), or a secret wrapped directly (a bank file's nonce, kept after its person is erased:
    a new key would leave it unreadable and the file impossible to produce again)."""
    columns = [(h.model, h.field) for h in KEY_HOLDERS] + [
        (w.model, w.field) for w in MASTER_WRAPPED
    ]
    return any(_any_filled(label, field) for label, field in columns)


def blind_indexes_exist() -> bool:
    return _canary_exists(KeyCanaryKind.BLIND_INDEX) or any(
        _any_filled(label, field) for label, field in BLIND_INDEX_COLUMNS
    )


def audit_signing_data_exists() -> bool:
    """Whether the database records an audit signing key — its canary, or a signed checkpoint
    (a database from before canaries has only those): a new pair would sign under another
    name than the checkpoints the auditors hold."""
    return _canary_exists(KeyCanaryKind.AUDIT_SIGNING) or _any_filled(
        "audit.AuditCheckpoint", "key_fingerprint"
    )


def _canary_exists(kind: str) -> bool:
    """Whether a key canary of ``kind`` is stored (fail closed, as :func:`_any_filled`)."""
    if KeyCanary._meta.db_table not in connection.introspection.table_names():
        return False
    try:
        with transaction.atomic():
            return KeyCanary.objects.filter(kind=kind).exists()
    except DatabaseError:
        return True


def create_blind_index_key() -> bool:
    """Create the blind-index key file if it is missing (0600); True when it was created.

    Only ``rebuild_blind_indexes`` creates it over existing indexes, because it recomputes
    them all; ``core.crypto`` refuses to.
    """
    if settings.BLIND_INDEX_KEY:
        return False
    path = Path(settings.BLIND_INDEX_KEY_FILE)
    if path.exists():
        return False
    owner_only_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_urlsafe(32).encode("ascii"))
    reset_key_cache()
    return True


@dataclass(frozen=True)
class IndexRebuild:
    people: int  # people whose index was recomputed
    cleared: int  # indexes emptied: the personnummer could not be read or was not valid
    key_created: bool
    names: int = 0  # people whose name index was recomputed (fund.name_index)


@sensitive_variables()
def rebuild_blind_indexes(*, actor: Any = None) -> IndexRebuild:
    """Recompute every personnummer and name index from the decrypted values under today's key.

    For a demo database whose indexes were made with SECRET_KEY (before the index had its
    own key), after the blind-index key is replaced, and for people registered before the
    name index existed whose key could not be read when it was added (migration
    ``fund.0011_beneficiary_name_index``). One transaction with its audit event: either every
    index is under the new key or none is.
    """
    key_created = create_blind_index_key()
    reset_key_cache()
    people = cleared = names = 0
    with transaction.atomic():
        rows = (
            Beneficiary.objects.select_for_update()
            .filter(erased_at__isnull=True)
            .exclude(encrypted_personal_data="", personnummer_index="")
            .order_by("pk")
        )
        for person in rows:
            try:
                data = decrypt_json(person.wrapped_key, person.encrypted_personal_data)
            except DecryptionFailed:
                data = {}
            fields = ["name_index"]
            if person.personnummer_index:
                number = data.get("personnummer", "")
                if number and personnummer.is_valid(number):
                    person.personnummer_index = blind_index(twelve_digits(number))
                    people += 1
                else:
                    person.personnummer_index = ""
                    cleared += 1
                fields.append("personnummer_index")
            person.name_index = name_index(str(data.get("name", "") or ""))
            names += bool(person.name_index)
            person.save(update_fields=fields)
        # The index key's canary follows the indexes, or the next start would refuse the key.
        KeyCanary.objects.filter(kind=KeyCanaryKind.BLIND_INDEX).update(digest=blind_index_canary())
        record_event(
            action="privacy.blind_index_rebuilt",
            actor=actor,
            object_type="system",
            payload={
                "people": people,
                "cleared": cleared,
                "names": names,
                "key_created": key_created,
            },
        )
    return IndexRebuild(people=people, cleared=cleared, key_created=key_created, names=names)
