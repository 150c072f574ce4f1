"""API clients authenticated with real hashed tokens, one per role of the ``world``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.services import issue_token


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> None:
    cache.clear()


@pytest.fixture
def client_for() -> Callable[[Any], APIClient]:
    def make(user: Any) -> APIClient:
        _token, plain = issue_token(user, label="tests")
        client = APIClient()
        # The API answers in Swedish unless asked; the specs read the English messages.
        client.credentials(HTTP_AUTHORIZATION=f"Token {plain}", HTTP_ACCEPT_LANGUAGE="en")
        return client

    return make


@pytest.fixture
def as_role(world: Any, client_for: Callable[[Any], APIClient]) -> Callable[[str], APIClient]:
    """``as_role("officer")``: a client for that user of the world."""

    def make(role: str) -> APIClient:
        user = world.ombud.user if role == "ombud" else getattr(world, role)
        return client_for(user)

    return make
