"""OpenAPI: every operation documents the error answers it can give, with their body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from api.errors import ErrorSerializer

#: Statuses any authenticated endpoint may answer with besides its own.
COMMON_ERRORS = ("400", "401", "403", "404", "429")
WRITE_ERRORS = ("409",)


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        codes = COMMON_ERRORS + (WRITE_ERRORS if self.method in ("POST", "PUT", "PATCH") else ())
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
        return responses
