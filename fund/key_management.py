"""Master-key rotation and re-keying after a leaked master key, over every registered key.

Both walk ``fund.token_fields`` instead of knowing the models, so a newly registered key
holder or encrypted column is covered without code here.

* **Rotation** (``rotate_keys``) re-wraps each data key with the newest master key. The
  personal values are not touched. Enough for a routine change of master key.
* **Re-keying** (``rekey_data``) is for a master key that may have leaked: rotation alone
  would leave the same data keys in place, and the leaked key still unwraps the old wrapped
  copies in every backup taken before — which then open today's tokens. Re-keying gives every
  holder a new data key and re-encrypts every token under it, so old backups' keys open
  nothing current.

Both also re-wrap the secrets kept under the master keys directly (``MASTER_WRAPPED``: a bank
file's nonce) with the newest master key. Their value never changes: a nonce is part of a file
that may be at the bank, and a new one would change the file's bytes and digest.

A row that cannot be opened (a key planted by someone with the database, a token damaged) does
not stop the run: it is skipped and left as found, every other row is finished, and the run
ends with :class:`RowsSkipped` naming the skipped rows by model, id and reference, after its
audit event (which lists them too) is committed. Keep the old master key until they are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.db import models, transaction

from audit.services import record_event
from core.crypto import (
    DecryptionFailed,
    new_data_key,
    reencrypt,
    reset_key_cache,
    rewrap,
    unwrap_data_key,
)
from fund.token_fields import (
    KEY_HOLDERS,
    MASTER_WRAPPED,
    TOKEN_FIELDS,
    KeyHolder,
    MasterWrapped,
    TokenField,
)


@dataclass(frozen=True)
class SkippedRow:
    """A row rotation or re-keying could not open, by model, id and reference only."""

    model: str  # lower-case label, e.g. "accounting.payee"
    id: Any
    reference: str = ""

    def as_payload(self) -> dict[str, Any]:
        return {"model": self.model, "id": self.id, "reference": self.reference}


class RowsSkipped(Exception):
    """The run finished every row it could open; these it could not (left as found)."""

    def __init__(self, action: str, counts: dict[str, Any], skipped: list[SkippedRow]) -> None:
        self.action = action
        self.counts = counts
        self.skipped = skipped
        named = ", ".join(
            f"{row.model} {row.id}" + (f" ({row.reference})" if row.reference else "")
            for row in skipped
        )
        super().__init__(
            f"{len(skipped)} rows could not be opened with the configured master keys and were "
            f"skipped, left as they were: {named}. Everything else was done. Keep the old "
            "master key configured until these rows are restored from a backup or erased."
        )


#: What opening a row that is not a valid token under the configured keys raises.
UNREADABLE = (InvalidToken, DecryptionFailed)


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _skipped_row(label: str, pk: Any) -> SkippedRow:
    """The row by id and, where the model has one, its reference (never a personal value)."""
    model = _model(label)
    names = {field.name for field in model._meta.concrete_fields}
    reference = next((name for name in ("reference", "message_id") if name in names), None)
    value = (
        model._default_manager.filter(pk=pk).values_list(reference, flat=True).first()
        if reference
        else ""
    )
    return SkippedRow(model._meta.label_lower, pk, str(value or ""))


def _holder_label(token: TokenField) -> str:
    """The key holder a token's ``key_path`` leads to."""
    model: Any = _model(token.model)
    for part in filter(None, token.key_path.split("__")):
        model = model._meta.get_field(part).related_model
    return str(model._meta.label)


def _holder_pks_after(
    holder: KeyHolder | MasterWrapped, last_pk: Any, batch_size: int
) -> list[Any]:
    manager = _model(holder.model)._default_manager
    rows = manager.filter(pk__gt=last_pk).exclude(**{holder.field: ""}).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:batch_size])


def _rewrap_column(column: KeyHolder | MasterWrapped, batch_size: int) -> tuple[int, list[Any]]:
    """Re-wrap every value of one column with the newest master key, in locked batches.

    Returns how many were re-wrapped and the pks of those that could not be opened.
    """
    manager = _model(column.model)._default_manager
    done = 0
    unreadable: list[Any] = []
    last_pk: Any = 0
    while pks := _holder_pks_after(column, last_pk, batch_size):
        with transaction.atomic():
            rows = list(
                manager.select_for_update()
                .filter(pk__in=pks)
                .exclude(**{column.field: ""})
                .only("pk", column.field)
                .order_by("pk")
            )
            rewrapped = []
            for row in rows:
                try:
                    setattr(row, column.field, rewrap(getattr(row, column.field)))
                except UNREADABLE:
                    unreadable.append(row.pk)
                    continue
                rewrapped.append(row)
            manager.bulk_update(rewrapped, [column.field])
        done += len(rewrapped)
        last_pk = pks[-1]
    return done, unreadable


def _rewrap_master_wrapped(batch_size: int, skipped: list[SkippedRow]) -> dict[str, int]:
    """Every master-wrapped secret under the newest master key; counts per column."""
    counts: dict[str, int] = {}
    for column in MASTER_WRAPPED:
        done, unreadable = _rewrap_column(column, batch_size)
        counts[f"{column.model}.{column.field}"] = done
        skipped += [_skipped_row(column.model, pk) for pk in unreadable]
    return counts


def _finish(action: str, counts: dict[str, Any], skipped: list[SkippedRow]) -> None:
    """The run's audit event, committed; then :class:`RowsSkipped` if any row was skipped."""
    with transaction.atomic():
        record_event(
            action=action,
            object_type="system",
            payload={**counts, "skipped": [row.as_payload() for row in skipped]},
        )
    if skipped:
        raise RowsSkipped(action, counts, skipped)


def rotate_master_keys(batch_size: int = 500) -> int:
    """Re-wrap every data key with the newest master key, in locked batches; returns how many.

    Afterwards the old master keys can be removed from ``FIELD_ENCRYPTION_KEYS``, unless
    :class:`RowsSkipped` was raised: then the skipped rows still need them.
    """
    reset_key_cache()
    counts: dict[str, int] = {}
    skipped: list[SkippedRow] = []
    for holder in KEY_HOLDERS:
        counts[holder.model], unreadable = _rewrap_column(holder, batch_size)
        skipped += [_skipped_row(holder.model, pk) for pk in unreadable]
    master_wrapped = _rewrap_master_wrapped(batch_size, skipped)
    total = sum(counts.values())
    _finish(
        "keys.rotated",
        {"keys": total, "by_holder": counts, "master_wrapped": master_wrapped},
        skipped,
    )
    return total


def _rekey_holder(holder: KeyHolder, pk: Any, tokens: list[TokenField]) -> int | None:
    """One holder row: a new data key and its tokens re-encrypted, in one transaction.

    Returns how many tokens were re-encrypted, or None when the key was destroyed meanwhile.
    """
    manager = _model(holder.model)._default_manager
    own_fields = [token.field for token in tokens if not token.key_path]
    with transaction.atomic():
        row = (
            manager.select_for_update().filter(pk=pk).only("pk", holder.field, *own_fields).first()
        )
        wrapped = getattr(row, holder.field, "") if row is not None else ""
        if not wrapped:
            return None
        old_key = unwrap_data_key(wrapped)
        new_key, new_wrapped = new_data_key()
        # The holder's own tokens are written in the same UPDATE as its new key: a guard
        # (the payee guard) accepts a token change only together with a key change.
        own_row: dict[str, Any] = {holder.field: new_wrapped}
        done = 0
        for token in tokens:
            if not token.key_path:
                value = getattr(row, token.field)
                if value:
                    own_row[token.field] = reencrypt(value, old_key, new_key)
                    done += 1
                continue
            token_manager = _model(token.model)._default_manager
            owner = {token.key_path: pk}
            rows = list(
                token_manager.select_for_update(of=("self",))
                .filter(**owner)
                .exclude(**{token.field: ""})
                .only("pk", token.field)
                .order_by("pk")
            )
            for token_row in rows:
                value = getattr(token_row, token.field)
                setattr(token_row, token.field, reencrypt(value, old_key, new_key))
            token_manager.bulk_update(rows, [token.field])
            done += len(rows)
        manager.filter(pk=pk).update(**own_row)
    return done


def rekey_after_leak(batch_size: int = 500) -> dict[str, int]:
    """New data keys for every holder, every token re-encrypted, every master-wrapped secret
    re-wrapped; returns the counts.

    Run with the new master key first in ``FIELD_ENCRYPTION_KEYS`` and the leaked one still
    after it (it unwraps the old data keys), with the application stopped so that nothing
    writes a token under an old data key meanwhile; then remove the leaked key. A holder whose
    key or one of whose tokens cannot be opened keeps its old key (a new one would orphan the
    token) and is reported in :class:`RowsSkipped`.
    """
    reset_key_cache()
    keys = tokens = 0
    skipped: list[SkippedRow] = []
    for holder in KEY_HOLDERS:
        dependants = [t for t in TOKEN_FIELDS if _holder_label(t) == holder.model]
        last_pk: Any = 0
        while pks := _holder_pks_after(holder, last_pk, batch_size):
            for pk in pks:
                try:
                    done = _rekey_holder(holder, pk, dependants)
                except UNREADABLE:  # its transaction rolled back: the row is as it was
                    skipped.append(_skipped_row(holder.model, pk))
                    continue
                if done is not None:
                    keys += 1
                    tokens += done
            last_pk = pks[-1]
    counts = {
        "keys": keys,
        "tokens": tokens,
        "master_wrapped": sum(_rewrap_master_wrapped(batch_size, skipped).values()),
    }
    _finish("keys.rekeyed", counts, skipped)
    return counts
