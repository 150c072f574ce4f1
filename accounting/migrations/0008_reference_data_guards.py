"""Reference data the books depend on is fixed once used; every voucher needs its seal.

* ``VoucherSealDue``: a row the database writes for every new voucher (AFTER INSERT trigger),
  whose deferred foreign key needs the voucher's seal at COMMIT, so a voucher with no
  postings cannot commit on SQLite either. Existing sealed vouchers get their row here; a
  voucher committed earlier without a seal (possible on SQLite) keeps none and stays as it
  was: the ledger is append-only.
* The triggers of ``accounting/reference_guards.py``: an account's number and type, a
  dimension's number, a dimension object's dimension, code and fund, a fund's accounting
  dimension, a fiscal year's and a period's dates are refused once used.
* ``db_guards`` reinstalled: on PostgreSQL the closed-period check now reads the period
  ``FOR SHARE``, so a voucher racing the closing of its period is refused.
"""

import django.db.models.deletion
from django.db import migrations, models


def install(apps, schema_editor):
    from accounting import db_guards, reference_guards

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounting_vouchersealdue (voucher_id, seal_id) "
            "SELECT voucher_id, voucher_id FROM accounting_voucherseal"
        )
    db_guards.install(schema_editor.connection)
    reference_guards.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from accounting import reference_guards

    reference_guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0007_payee_approval"),
    ]

    operations = [
        migrations.CreateModel(
            name="VoucherSealDue",
            fields=[
                (
                    "voucher",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="accounting.voucher",
                    ),
                ),
                (
                    "seal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounting.voucherseal",
                    ),
                ),
            ],
            options={
                "default_permissions": (),
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("seal", models.F("voucher"))),
                        name="seal_due_is_voucher",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
