"""What was typed into a search box, kept on the server under a short token.

A search may be a person's name or personnummer: in the page address it would stay in the
browser history, the proxy's and gunicorn's access logs and the next page's Referer. So the
text is posted, kept in the user's own session (wrapped by the master keys, like any other
secret at rest) and the address carries only ``s=<token>``. Another user's session, or an
expired one, knows no token: the page then shows the list unsearched.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from core.crypto import DecryptionFailed, unwrap_with_master_keys, wrap_with_master_keys

#: The session key, and how many searches one session keeps (the oldest go first).
SESSION_KEY = "typed_searches"
KEPT = 20
#: The address parameter that names a kept search.
SEARCH_PARAMETER = "s"


@sensitive_variables()
def remember_search(request: HttpRequest, text: str) -> str:
    """Keep ``text`` for this session; its token ("" for an empty search).

    The same text again gets its earlier token, so sorting or paging a search adds nothing.
    """
    text = " ".join(text.split())
    if not text:
        return ""
    kept: dict[str, str] = dict(request.session.get(SESSION_KEY, {}))
    for token, wrapped in kept.items():
        if _unwrapped(wrapped) == text:
            return token
    token = secrets.token_urlsafe(6)
    kept[token] = wrap_with_master_keys(text)
    request.session[SESSION_KEY] = dict(list(kept.items())[-KEPT:])
    return token


@sensitive_variables()
def recalled_search(request: HttpRequest, token: str) -> str:
    """The text kept under ``token`` in this session, or "" when it knows no such token."""
    wrapped = request.session.get(SESSION_KEY, {}).get(token or "")
    return _unwrapped(wrapped) if isinstance(wrapped, str) else ""


@sensitive_variables()
def _unwrapped(wrapped: str) -> str:
    try:
        return unwrap_with_master_keys(wrapped)
    except DecryptionFailed:  # wrapped before a key rotation removed its key: forgotten
        return ""
