"""Issue #17: no import circles between apps. Each app may import only the apps below it.

The layers, bottom first (docs/architecture.md explains each). Every import counts — at the
top of a module, inside a function, or for type checking only — because a deferred import is
still a dependency: it only hides the circle from the interpreter, not from the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Bottom first. Apps in one layer may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("audit",),
    ("fund",),
    ("workflows",),
    ("accounting",),
    ("cofinancing", "reminders"),
    ("privacy",),
    ("web",),
    ("api",),
    ("demo",),
    ("operations",),
    ("config",),
)
LEVEL = {app: level for level, apps in enumerate(LAYERS) for app in apps}


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def forbidden_imports(app: str, source: str, where: str) -> list[str]:
    """The imports in ``source`` (a module of ``app``) of an app at its own level or above."""
    found = []
    for line, module in imported_modules(source):
        target = module.split(".")[0]
        if target == app or target not in LEVEL:
            continue
        if LEVEL[target] >= LEVEL[app]:
            found.append(f"{where}:{line} imports {module} ({app} may not import {target})")
    return found


def test_apps_import_only_the_apps_below_them():
    problems = []
    for app in LEVEL:
        for path in sorted((ROOT / app).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            problems += forbidden_imports(app, path.read_text(encoding="utf-8"), where)
    assert problems == []


def test_every_app_of_the_project_has_a_layer():
    from django.conf import settings

    ours = {
        name.split(".")[0]
        for name in settings.INSTALLED_APPS
        if (ROOT / name.split(".")[0]).is_dir()
    }
    assert ours - set(LEVEL) == set()
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - set(LEVEL) - {"tests", "bench", "scripts"} == set()


def test_an_import_upwards_is_reported_with_its_place():
    source = "def f():\n    from accounting.ledger import post_voucher\n"
    assert forbidden_imports("workflows", source, "workflows/x.py") == [
        "workflows/x.py:2 imports accounting.ledger (workflows may not import accounting)"
    ]


def test_apps_of_one_layer_may_not_import_each_other():
    problems = forbidden_imports("reminders", "import cofinancing.models\n", "reminders/x.py")
    assert problems == [
        "reminders/x.py:1 imports cofinancing.models (reminders may not import cofinancing)"
    ]


def test_a_type_checking_import_upwards_counts_too():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from web.forms import F\n"
    assert forbidden_imports("fund", source, "fund/x.py")
