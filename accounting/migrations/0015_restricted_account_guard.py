"""A fund's restricted-funds account is fixed once it holds the fund's money (review of #16).

The trigger lives with the other reference-data guards (``accounting/reference_guards.py``),
on the fund's table: once a posting on ``Fund.restricted_funds_account`` carries the fund's
object, the database refuses to change the field, on SQLite and PostgreSQL.
"""

from django.db import migrations


def install(apps, schema_editor):
    from accounting import reference_guards

    reference_guards.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from accounting import reference_guards

    reference_guards.uninstall_restricted_account_guard(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0014_year_end"),
        ("fund", "0009_code_is_loggable"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
