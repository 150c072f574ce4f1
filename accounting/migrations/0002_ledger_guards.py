"""Database guards of the ledger: balanced at commit, append-only, closed periods closed.

How the balance is enforced at COMMIT on both databases:

* Every posting carries ``seal_id`` (always equal to its ``voucher_id``, a CHECK constraint)
  referencing ``accounting_voucherseal``. Django creates foreign keys ``DEFERRABLE INITIALLY
  DEFERRED`` on SQLite and PostgreSQL, so the reference is verified at COMMIT: a transaction
  that writes postings without the seal of their voucher cannot commit.
* The seal's BEFORE INSERT trigger refuses a voucher whose postings do not sum to exactly
  zero (or that has fewer than two postings); on SQLite the sum is taken in öre as integers.
* Once the seal exists, a BEFORE INSERT trigger on postings refuses any further posting to
  that voucher, and UPDATE/DELETE are refused on vouchers, seals and postings.

So whatever commits is balanced and stays so. SQLite has no deferred triggers, but it does
honour deferred foreign keys, which is why the seal is a row and not a flag.

PostgreSQL additionally gets the classic ``DEFERRABLE INITIALLY DEFERRED`` constraint trigger
on postings (and on vouchers, so an empty voucher is refused too) that sums the voucher at
COMMIT. Sealing is an INSERT, so the immutability triggers need no exception for it.

The SQL lives in ``accounting/db_guards.py`` so tests can reinstall it.
"""

from django.db import migrations


def install(apps, schema_editor):
    from accounting import db_guards

    db_guards.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from accounting import db_guards

    db_guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
