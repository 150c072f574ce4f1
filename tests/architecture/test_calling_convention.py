"""Issue #17: one calling convention for every service and selector.

``service(obj, *, actor, ...)``: the object acted on first (positional), then keyword-only
arguments with ``actor`` among them; a service that acts on no existing object takes keyword
arguments only. A function that takes an ``actor`` is a service (or a selector reading for
one), wherever it lives, so every public function of the apps with an ``actor`` parameter is
held to the rule — the modules named ``services``/``selectors`` and the service modules
beside them (payees, ledger, commitments, privacy, erasure, …).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

from tests.architecture.test_app_imports import LEVEL

ROOT = Path(__file__).resolve().parents[2]


def modules_with_an_actor() -> Iterator[str]:
    """The apps' modules that define a top-level function with an ``actor`` parameter."""
    for app in LEVEL:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and "actor"
                in {a.arg for a in [*node.args.posonlyargs, *node.args.args]}
                | {a.arg for a in node.args.kwonlyargs}
                for node in tree.body
            ):
                yield ".".join(path.relative_to(ROOT).with_suffix("").parts)


def named_services_and_selectors() -> Iterator[str]:
    for app in LEVEL:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if {"services", "selectors"} & set(parts):
                yield ".".join(p for p in parts if p != "__init__")


def convention_problems(module_name: str) -> list[str]:
    """The public functions of ``module_name`` whose ``actor`` is positional or first."""
    module = importlib.import_module(module_name)
    problems = []
    for name, function in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(function):
            continue
        if function.__module__ != module_name:
            continue  # imported from elsewhere: checked where it is defined
        parameters = list(inspect.signature(function).parameters.values())
        actor = next((p for p in parameters if p.name == "actor"), None)
        if actor is None:
            continue
        where = f"{module_name}.{name}{inspect.signature(function)}"
        if parameters[0] is actor and actor.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"{where}: actor comes first, where the object acted on belongs")
        elif actor.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"{where}: actor must be keyword-only")
    return problems


def test_the_service_modules_are_found():
    found = set(modules_with_an_actor()) | set(named_services_and_selectors())
    # A sample from every kind of place: a services package, a selectors module, a service
    # module without the name, an app's services module, the payout and bank-file modules.
    assert {
        "workflows.services.intake",
        "workflows.selectors",
        "accounting.payees",
        "fund.services",
        "privacy.erasure",
        "accounting.payouts.batches",
        "accounting.payouts.settlement",
        "accounting.bank_status",
    } <= found


def test_actor_is_keyword_only_and_never_first_in_every_service_and_selector():
    modules = sorted(set(modules_with_an_actor()) | set(named_services_and_selectors()))
    problems = [problem for name in modules for problem in convention_problems(name)]
    assert problems == []
