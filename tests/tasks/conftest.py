"""The API clients of ``tests/api`` serve the task tests too."""

from tests.api.conftest import _fresh_throttle_counts, client_for

__all__ = ["_fresh_throttle_counts", "client_for"]
