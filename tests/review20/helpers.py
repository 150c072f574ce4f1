"""Batches at each step of their life, made through the services as the world's treasurers."""

from __future__ import annotations

from typing import Any

from accounting.models import PaymentBatch

XML = "application/xml"


def approved_batch(world: Any, *amounts: str) -> tuple[Any, PaymentBatch]:
    return world.approved_batch(*amounts)  # type: ignore[no-any-return]


def exported_batch(world: Any, *amounts: str) -> tuple[Any, PaymentBatch]:
    return world.exported_batch(*amounts)  # type: ignore[no-any-return]


def upload(client: Any, content: bytes, content_type: str = XML) -> Any:
    return client.post("/api/v1/bank-files/", data=content, content_type=content_type)
