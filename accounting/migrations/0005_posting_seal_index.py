"""Index ``Posting.seal_id``.

SQLite checks a deferred foreign key by looking up the child rows; without an index every
seal insert scanned the whole posting table, so booking slowed down as the ledger grew.
The index is created directly: letting Django alter the field would rebuild the table on
SQLite and break the ledger's triggers that refer to it.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "accounting_posting_seal_id_idx"


class Migration(migrations.Migration):
    dependencies = [("accounting", "0004_payee_person_key")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="posting",
                    name="seal",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounting.voucherseal",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"CREATE INDEX {INDEX} ON accounting_posting (seal_id)",
                    f"DROP INDEX {INDEX}",
                ),
            ],
        )
    ]
