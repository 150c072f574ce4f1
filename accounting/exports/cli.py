"""Shared argument handling of the export commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from core.exceptions import WorkflowError

T = TypeVar("T")


def parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise CommandError(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value})


def actor_for(username: str | None) -> Any:
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("No active user “%(u)s”.") % {"u": username})
    return user


def add_export_arguments(parser: CommandParser) -> None:
    """``--from``, ``--to``, ``--output`` and ``--user``, as every export command takes them."""
    parser.add_argument("--from", dest="date_from", help="first date, YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", help="last date, YYYY-MM-DD")
    parser.add_argument("--output", required=True)
    parser.add_argument("--user", help="username of the treasurer/auditor exporting")


def run_export(export: Callable[..., T], options: dict[str, Any], **kwargs: Any) -> T:
    """Call an export service with the common options; refusals become ``CommandError``."""
    try:
        return export(
            options["output"],
            date_from=parse_date(options["date_from"]),
            date_to=parse_date(options["date_to"]),
            actor=actor_for(options["user"]),
            **kwargs,
        )
    except WorkflowError as exc:
        raise CommandError("\n".join(exc.messages)) from exc
