"""The API's clients per role (the fixtures of ``tests/api``), for the review of issue #20."""

from tests.api.conftest import _fresh_throttle_counts, as_role, client_for

__all__ = ["_fresh_throttle_counts", "as_role", "client_for"]
