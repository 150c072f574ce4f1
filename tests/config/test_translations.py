"""The Swedish catalogue is complete, compiled, and used for the services' domain errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from core.exceptions import ValidationFailed

PO_FILE = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")


def _po_entries() -> list[dict]:
    """Each entry of the .po file: its msgid, msgstr and flags (a small, strict-enough parser)."""
    entries: list[dict] = []
    entry: dict = {"flags": set(), "msgid": "", "msgstr": ""}
    field = None
    for line in [*PO_FILE.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            if field is not None:
                entries.append(entry)
            entry, field = {"flags": set(), "msgid": "", "msgstr": ""}, None
        elif line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural "):
            field = "msgid_plural"
            entry[field] = ast.literal_eval(line[len("msgid_plural ") :])
        elif line.startswith("msgstr["):
            index, text = line[len("msgstr[") :].split("] ", 1)
            # The singular form stands in ``msgstr``; the other forms beside it.
            field = "msgstr" if index == "0" else f"msgstr[{index}]"
            entry[field] = ast.literal_eval(text)
        elif line.startswith("msgid "):
            field = "msgid"
            entry[field] = ast.literal_eval(line[len("msgid ") :])
        elif line.startswith("msgstr "):
            field = "msgstr"
            entry[field] = ast.literal_eval(line[len("msgstr ") :])
        elif line.startswith('"') and field is not None:
            entry[field] += ast.literal_eval(line)
        else:
            raise AssertionError(f"unexpected line in {PO_FILE.name}: {line}")
    return entries


def _messages() -> list[dict]:
    """The translatable entries (everything but the header)."""
    return [e for e in _po_entries() if e["msgid"]]


def test_domain_errors_speak_swedish_and_english(world):
    app = world.new_application("300")
    with translation.override("sv"), pytest.raises(ValidationFailed) as swedish:
        world.run(app, "withdraw", world.ombud.user, reason="x")
    assert swedish.value.messages == ["Välj varför ansökan återkallas."]

    with translation.override("en"), pytest.raises(ValidationFailed) as english:
        world.run(app, "withdraw", world.ombud.user, reason="x")
    assert english.value.messages == ["Choose why the application is withdrawn."]


def test_catalogue_has_no_empty_or_fuzzy_entries():
    messages = _messages()
    assert len(messages) > 200
    assert [e["msgid"] for e in messages if not e["msgstr"].strip()] == []
    empty_plural_forms = [
        (e["msgid"], key)
        for e in messages
        for key in e
        if key.startswith("msgstr[") and not e[key].strip()
    ]
    assert empty_plural_forms == []
    assert [e["msgid"] for e in _po_entries() if "fuzzy" in e["flags"]] == []


def test_catalogue_keeps_every_placeholder():
    def placeholders(text: str) -> list[str]:
        parts = text.replace("%%", "").split("%")[1:]
        return sorted(p[: p.index(")") + 2] if p.startswith("(") else p[:1] for p in parts)

    broken = [
        e["msgid"]
        for e in _messages()
        if "no-python-format" not in e["flags"]
        and placeholders(e["msgid"]) != placeholders(e["msgstr"])
    ]
    assert broken == []


def test_compiled_catalogue_translates_the_po_entries():
    """The committed .mo matches the .po: a spread of 20 entries is translated at run time."""
    assert MO_FILE.exists(), "run `manage.py compilemessages --ignore=.venv` and commit the .mo"
    messages = _messages()
    step = max(1, len(messages) // 20)
    sample = messages[::step][:20]
    assert len(sample) == 20
    with translation.override("sv"):
        got = {e["msgid"]: translation.gettext(e["msgid"]) for e in sample}
    assert got == {e["msgid"]: e["msgstr"] for e in sample}
    with translation.override("en"):
        assert all(translation.gettext(e["msgid"]) == e["msgid"] for e in sample)
