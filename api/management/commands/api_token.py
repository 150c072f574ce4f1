"""``manage.py api_token issue <username> --label …`` / ``revoke <prefix>`` / ``list``.

The token is printed once on issue; only its hash is stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from api.models import ApiToken
from api.services import issue_token, revoke_token
from core.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Issue, revoke or list API tokens (hashed at rest; shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue")
        issue.add_argument("username")
        issue.add_argument("--label", required=True)
        issue.add_argument("--days", type=int, default=365, help="0 = never expires")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix")
        sub.add_parser("list")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "issue":
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError("No such user.")
            days = options["days"]
            expires = timezone.now() + timedelta(days=days) if days else None
            try:
                _issued, token = issue_token(user, label=options["label"], expires_at=expires)
            except WorkflowError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(token)
        elif action == "revoke":
            found = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if found is None:
                raise CommandError("No such token.")
            revoke_token(found)
            self.stdout.write(f"revoked {found}")
        else:
            for row in ApiToken.objects.select_related("user"):
                state = "revoked" if row.revoked_at else "active"
                self.stdout.write(f"{row.prefix} {row.user.username} {state}")
