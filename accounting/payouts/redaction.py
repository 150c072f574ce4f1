"""Erasure: the bank files that named a person's own account, redacted in ``PAYOUT_FILES_DIR``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from lxml import etree

from accounting import pain001
from accounting.models import (
    Payee,
    PayeeKind,
    PaymentBatch,
    PaymentOrder,
)
from audit.services import record_event
from core.crypto import DecryptionFailed, unwrap_with_master_keys
from core.exceptions import ValidationFailed
from core.roles import Role

#: What replaces a person's account, clearing number and BIC in a bank file after erasure
#: (and the file's nonce in ``PmtInfId``).
REDACTED = "REDACTED"


def _redacted_bank_file(content: bytes, end_to_end_ids: set[str], secrets_: list[str]) -> bytes:
    """The file with the creditor account and agent of the payee's transfers redacted, and
    the nonce of a file that paid the payee: left in, it and the database would let the
    redacted account be guessed back against the file's stored digest.

    Anything of the account or nonce still left (a file that is not what we wrote) is replaced
    as plain bytes, so the result never holds it.
    """
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        root = None
    if root is not None:
        ns = {"p": pain001.NAMESPACE}
        for info in root.iterfind(".//p:PmtInf", ns):
            paid = info.xpath(
                "p:CdtTrfTxInf/p:PmtId/p:EndToEndId/text()", namespaces=ns, smart_strings=False
            )
            if end_to_end_ids.intersection(paid):
                for element in info.iterfind("p:PmtInfId", ns):
                    element.text = REDACTED
        for tx in root.iterfind(".//p:CdtTrfTxInf", ns):
            if tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns) not in end_to_end_ids:
                continue
            for tag in ("p:CdtrAcct", "p:CdtrAgt"):
                for element in tx.iterfind(f"{tag}//*", ns):
                    if element.text and element.text.strip():
                        element.text = REDACTED
        content = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    for secret in sorted(filter(None, secrets_), key=len, reverse=True):
        content = content.replace(secret.encode(), REDACTED.encode())
    return content


def _overwrite(path: Path, content: bytes) -> None:
    """Write over the file in place (not a new file beside it), so the old bytes are not
    simply left in a freed inode; owner-only."""
    with path.open("r+b") as out:
        out.write(content)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())
    path.chmod(0o600)


def shred_file(path: Path) -> None:
    """Overwrite the file with zeros in place, then unlink it: unlinking alone leaves its bytes
    (accounts, a personkonto) in the inode for any other link, and in freed blocks."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    _overwrite(path, b"\0" * size)
    path.unlink(missing_ok=True)


def payout_folder_problem(payee_ids: list[int]) -> str | None:
    """Why erasure must wait: files paid these person payees but ``PAYOUT_FILES_DIR`` is not
    there to redact them (not mounted, or another host's settings). Erasure destroys the key
    that finds the account, so a file it cannot see would keep the personkonto for good."""
    folder = Path(settings.PAYOUT_FILES_DIR)
    if folder.is_dir():
        return None
    paid = PaymentBatch.objects.filter(
        pk__in=_batches_paying(
            list(
                Payee.objects.filter(pk__in=payee_ids, kind=PayeeKind.PERSON).values_list(
                    "pk", flat=True
                )
            )
        )
    )
    if not paid.exists():
        return None
    return _(
        "The payout folder %(folder)s (setting PAYOUT_FILES_DIR) does not exist here, but bank "
        "files paid this person's own account: mount the folder or run the erasure where it is, "
        "so the files can be redacted before the key is destroyed."
    ) % {"folder": folder}


def redact_payee_from_bank_files(payee: Payee) -> list[str]:
    """Redact a person payee's account, and the nonce of each file that paid it, from every
    file in ``PAYOUT_FILES_DIR``; returns the redacted files' names (message ids), for the
    erasure's audit event.

    Runs at erasure while the payee's key and the batches' nonces still exist (they are
    needed to find left overs); :func:`destroy_file_nonces` runs after it. The ledger and the
    batches keep only references; the bank keeps its own copy.
    """
    folder = Path(settings.PAYOUT_FILES_DIR)
    if payee.kind != PayeeKind.PERSON or not folder.is_dir():
        return []
    try:
        where = payee.destination()
    except (ValidationFailed, DecryptionFailed):
        where = None
    secrets_ = [where.clearing_number + where.account, where.account] if where else []
    secrets_ += _file_nonces(
        PaymentBatch.objects.filter(pk__in=_batches_paying([payee.pk]))
        .exclude(wrapped_file_nonce="")
        .values_list("wrapped_file_nonce", flat=True)
    )
    ids = {
        f"PO-{pk}" for pk in PaymentOrder.objects.filter(payee=payee).values_list("pk", flat=True)
    }
    named = {
        f"{message_id}.xml"
        for message_id in PaymentBatch.objects.filter(orders__payee=payee).values_list(
            "message_id", flat=True
        )
    }
    redacted: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        content = path.read_bytes()
        if path.name not in named and not any(s.encode() in content for s in secrets_):
            continue
        if path.name.startswith("."):  # a worker's unfinished temporary file
            path.unlink()
            redacted.append(path.name)
            continue
        cleaned = _redacted_bank_file(content, ids, secrets_)
        if cleaned != content:
            _overwrite(path, cleaned)
            redacted.append(path.name.removesuffix(".xml"))
    return redacted


def _file_nonces(wrapped: Any) -> list[str]:
    """The nonces to look for in the files; one the master keys cannot open is skipped (the
    file is still redacted by its transfers)."""
    nonces: list[str] = []
    for value in wrapped:
        try:
            nonces.append(unwrap_with_master_keys(value))
        except DecryptionFailed:
            continue
    return nonces


def _batches_paying(payee_ids: list[int]) -> Any:
    """The batches whose exported file carried an order to one of these payees."""
    return PaymentOrder.objects.filter(
        payee_id__in=payee_ids, batch__isnull=False, in_file=True
    ).values("batch_id")


def forget_legacy_file_digests(payee_ids: list[int]) -> int:
    """At erasure: blank the stored digest of every file without a nonce (exported before
    migration accounting 0011) that paid these payees; returns how many.

    Such a file can be rebuilt from the database alone, so its digest gives the account back
    by trying candidates (3300 + a personnummer). The file is never produced again (its payee
    is erased); the digest in the permanent ``payout.batch_exported`` and ``batch_sent``
    events stays (see docs/privacy.md, "Residual data"). Run before :func:`destroy_file_nonces`.
    """
    return (
        PaymentBatch.objects.filter(pk__in=_batches_paying(payee_ids), wrapped_file_nonce="")
        .exclude(file_sha256="")
        .update(file_sha256="")
    )


def redact_erased_payees_from_bank_file(batch: PaymentBatch, *, actor: Any = None) -> list[int]:
    """Redact, without any key, the accounts of erased person payees from this batch's file in
    ``PAYOUT_FILES_DIR``, and the file's nonce; returns the redacted orders' ids.

    For a file erasure did not see (another host's folder, a file restored from a backup):
    the transfers are found by their end-to-end ids (``PO-<order>``), which the ledger keeps,
    so the erased key is not needed. Text outside those elements is not searched (that needs
    the account, which is gone).
    """
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        orders = sorted(
            PaymentOrder.objects.filter(
                batch=batch,
                payee__kind=PayeeKind.PERSON,
                payee__beneficiary__erased_at__isnull=False,
            ).values_list("pk", flat=True)
        )
        folder = Path(settings.PAYOUT_FILES_DIR)
        if not folder.is_dir():
            raise ValidationFailed(
                _("The payout folder %(folder)s (setting PAYOUT_FILES_DIR) does not exist here.")
                % {"folder": folder}
            )
        path = folder / f"{batch.message_id}.xml"
        for leftover in folder.glob(f".{batch.message_id}.xml.*"):  # a worker's temporary file
            shred_file(leftover)
        if not orders or not path.is_file():
            return []
        content = path.read_bytes()
        cleaned = _redacted_bank_file(content, {f"PO-{pk}" for pk in orders}, [])
        if cleaned == content:
            return []
        _overwrite(path, cleaned)
        record_event(
            action="payout.bank_file_redacted",
            actor=actor,
            role=Role.ADMINISTRATOR if actor is not None else "",
            object_type="payment_batch",
            object_ref=batch.message_id,
            payload={"batch": batch.pk, "orders": orders},
        )
    return orders


def destroy_file_nonces(payee_ids: list[int]) -> int:
    """At erasure: blank the nonce of every file that paid these payees; returns how many.

    Without the nonce the stored digest can no longer be recomputed for candidate accounts;
    the file is never produced again anyway (its payee is erased).
    """
    return (
        PaymentBatch.objects.filter(pk__in=_batches_paying(payee_ids))
        .exclude(wrapped_file_nonce="")
        .update(wrapped_file_nonce="")
    )
