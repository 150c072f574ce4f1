"""``manage.py apply_database_grants``: the application role's rights, after every migration.

Run by ``make migrate-prod`` as the owner (``DATABASE_URL=$MIGRATION_DATABASE_URL``) right
after ``migrate``: a GRANT reaches only the tables that exist when it runs.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from operations.database_grants import (
    RoleRefused,
    apply_database_grants,
    database_role_problems,
)


class Command(BaseCommand):
    help = (
        "Grant the application's PostgreSQL role (DATABASE_APP_ROLE) what it needs on every "
        "table and sequence, revoke UPDATE, DELETE and TRUNCATE on the append-only tables and "
        "CREATE on the schema; run as the owner after every migration (make migrate-prod)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--app-role",
            default=None,
            help="the application's role (default: the DATABASE_APP_ROLE setting)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write(
                f"The {connection.vendor} database has no roles: nothing to grant "
                "(the embedded mode runs as one user; see README, Deployment)."
            )
            return
        app_role = options["app_role"] or settings.DATABASE_APP_ROLE
        try:
            with transaction.atomic():
                applied = apply_database_grants(connection, app_role=app_role)
        except RoleRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        for line in applied.lines():
            self.stdout.write(line)
        # What the owner cannot fix by granting (ownership, a superuser) is named here too.
        problems = database_role_problems(connection, app_role)
        if problems:
            raise CommandError(
                "The application role is still unsafe:\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )
        self.stdout.write(f"Role {app_role}: rights as production needs them.")
