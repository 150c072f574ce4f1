"""Time-sheet entries are insert-only: the database refuses UPDATE and DELETE.

The SQL lives in ``cofinancing/db_guards.py``.
"""

from django.db import migrations


def install(apps, schema_editor):
    from cofinancing import db_guards

    db_guards.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from cofinancing import db_guards

    db_guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cofinancing", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
