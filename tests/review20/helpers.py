"""Batches at each step of their life, made through the services as the world's treasurers."""

from __future__ import annotations

from typing import Any

from accounting.models import PaymentBatch
from accounting.payouts import batches

XML = "application/xml"


def approved_batch(world: Any, *amounts: str) -> tuple[Any, PaymentBatch]:
    """A case scheduled, batched by the first treasurer and approved by the second."""
    app = world.run(
        world.to_approved(world.new_application(*amounts)), "schedule_payout", world.treasurer
    )
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    return app, batches.approve_batch(batch, actor=world.treasurer2)


def exported_batch(world: Any, *amounts: str) -> tuple[Any, PaymentBatch]:
    app, batch = approved_batch(world, *amounts)
    batches.export_batch(batch, actor=world.treasurer)
    batch.refresh_from_db()
    return app, batch


def upload(client: Any, content: bytes, content_type: str = XML) -> Any:
    return client.post("/api/v1/bank-files/", data=content, content_type=content_type)
