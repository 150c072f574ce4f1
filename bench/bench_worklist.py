"""The officer's worklist at 100,000 applications: median time of a page (target < 150 ms on
PostgreSQL).

Run: ``python -m bench worklist`` (SQLite file in var/), or on PostgreSQL:
``BENCH_DATABASE_URL=postgres://fundflow:fundflow@127.0.0.1:5432/fundflow_web python -m bench
worklist``. The first run migrates the database and bulk-inserts the applications (about a
minute); later runs reuse them. ``BENCH_WORKLIST_SIZE`` changes the number.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum import luhn

from bench import Growth, Result
from bench.worklist_data import OPEN_STATES, bulk_applications
from fund.models import Application, Fund, Ombud, Organisation
from web.demo import DEMO_TOTP_KEY_HEX
from web.selectors import WorklistQuery, worklist

SIZE = int(os.environ.get("BENCH_WORKLIST_SIZE", "100000"))
#: Smaller worklists measured first (the same fund, topped up), to show how the time grows.
GROWTH = [int(n) for n in os.environ.get("BENCH_WORKLIST_GROWTH", "").split(",") if n]
REPEAT = 15
FUND_CODE = "bench-worklist"


def _user(name: str, role: str) -> User:
    user, _created = User.objects.get_or_create(username=name)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _world(size: int = SIZE) -> tuple[Fund, User]:
    call_command("migrate", verbosity=0)
    fund, _created = Fund.objects.get_or_create(
        code=FUND_CODE,
        defaults={"name": "Bench fund", "kind": "general", "accounting_dimension": "BENCH"},
    )
    officer = _user("bench-officer", "officer")
    colleague = _user("bench-officer2", "officer")
    fund.handlers.add(officer, colleague)
    base = "559900000"
    organisation, _created = Organisation.objects.get_or_create(
        org_number=f"{base[:6]}-{base[6:]}{luhn.calc_check_digit(base)}",
        defaults={"name": "Bench organisation", "kind": "ngo"},
    )
    ombud, _created = Ombud.objects.get_or_create(
        user=_user("bench-ombud", "ombud"), defaults={"organisation": organisation}
    )
    missing = size - Application.objects.filter(fund=fund).count()
    if missing > 0:
        started = time.perf_counter()
        bulk_applications(fund, ombud, missing, officers=[officer, colleague])
        print(f"   inserted {missing:,} applications in {time.perf_counter() - started:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    return fund, officer


def _median_ms(run: Callable[[], Any]) -> float:
    run()  # warm up
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _page(officer: User, query: WorklistQuery) -> Callable[[], Any]:
    def run() -> Any:
        page = worklist(officer, query)
        return [(row.reference, row.item_count, row.requested_total) for row in page]

    return run


def _http(officer: User) -> Callable[[], Any]:
    client = Client()
    client.force_login(officer)
    device, _created = TOTPDevice.objects.get_or_create(
        user=officer, name="bench", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = reverse("web:worklist")

    def run() -> Any:
        response = client.get(url)
        assert response.status_code == 200
        return response

    return run


def _bare_page(fund: Fund) -> Callable[[], Any]:
    """The baseline: the same first page as one plain query on the applications table."""

    def run() -> Any:
        return list(
            Application.objects.filter(fund=fund, state__in=OPEN_STATES)
            .order_by("state_changed_at")
            .values_list("reference", "state", "state_changed_at")[:50]
        )

    return run


def run() -> list[Result | Growth]:
    growth: list[Result | Growth] = []
    for size in GROWTH:  # smaller worklists first, to show how the page time grows
        fund, officer = _world(size)
        growth.append(
            Growth(
                "worklist page 1 (selector)",
                size,
                _median_ms(_page(officer, WorklistQuery())) / 1000,
            )
        )
    fund, officer = _world()
    count = Application.objects.filter(fund__code=FUND_CODE).count()
    vendor = connection.vendor
    target = "< 150 ms on PostgreSQL"
    bare = _median_ms(_bare_page(fund))
    first_page = _median_ms(_page(officer, WorklistQuery()))
    growth.append(Growth("worklist page 1 (selector)", count, first_page / 1000))
    return [
        Result(f"bare query: first 50 open cases of the fund ({vendor})", bare, "ms"),
        Result(
            f"worklist page 1 ({count:,} applications, {vendor}), longest waiting first",
            first_page,
            "ms",
            baseline=bare,
            target=target,
        ),
        Result(
            f"worklist page 40 by reference ({vendor})",
            _median_ms(_page(officer, WorklistQuery(state="all", sort="-reference", page=40))),
            "ms",
            target=target,
        ),
        Result(
            f"worklist filtered: unassigned, waiting 30+ days ({vendor})",
            _median_ms(_page(officer, WorklistQuery(officer="none", waiting_days=30))),
            "ms",
            target=target,
        ),
        Result(
            f"worklist page over HTTP, rendered ({vendor})",
            _median_ms(_http(officer)),
            "ms",
            target=target,
        ),
        *growth,
    ]
