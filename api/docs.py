"""The OpenAPI document and a self-contained documentation page (no CDN, no JavaScript)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

METHODS = ("get", "post", "put", "patch", "delete")


class SchemaView(SpectacularAPIView):
    permission_classes = [AllowAny]


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for route, item in schema.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            rows.append(
                {
                    "method": method.upper(),
                    "path": route,
                    "summary": operation.get("description", "").split("\n")[0],
                    "parameters": [
                        p.get("name") for p in operation.get("parameters", []) if "name" in p
                    ],
                    "request": bool(operation.get("requestBody")),
                    "responses": sorted(operation.get("responses", {})),
                    "tag": (operation.get("tags") or [""])[0],
                }
            )
    return rows


class DocsView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        schema = SchemaGenerator().get_schema(request=None, public=True)
        context = {"info": schema.get("info", {}), "operations": _operations(schema)}
        return render(request, "api/docs.html", context)
