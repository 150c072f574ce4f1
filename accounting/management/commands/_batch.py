"""Commands name a payment batch by its id or its message id (FF-…)."""

from django.core.management.base import CommandError

from accounting.models import PaymentBatch


def batch_named(key: str) -> PaymentBatch:
    batches = PaymentBatch.objects.all()
    batch = (
        batches.filter(pk=int(key)).first()
        if str(key).isdigit()
        else batches.filter(message_id=key).first()
    )
    if batch is None:
        raise CommandError(f"No payment batch {key}.")
    return batch
