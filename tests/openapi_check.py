"""Validates every /api/v1 response the tests make against the OpenAPI document."""

from __future__ import annotations

import json
import re
from functools import cache

from jsonschema import Draft202012Validator

from portal.api import OPENAPI_PATH


@cache
def spec() -> dict:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


@cache
def _routes() -> list[tuple[re.Pattern, str]]:
    routes = []
    for path in spec()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
        routes.append((re.compile(pattern), path))
    # Literal paths win over templated ones (e.g. /auth/token before /{x}).
    routes.sort(key=lambda r: r[1].count("{"))
    return routes


def check_response(method: str, path: str, status: int, content_type: str, payload) -> None:
    if not path.startswith("/api/v1/"):
        return
    if status == 404 and not any(rx.match(path) for rx, _p in _routes()):
        _validate({"$ref": "#/components/schemas/Error"}, payload, method, path, status)
        return
    matched = next((p for rx, p in _routes() if rx.match(path)), None)
    assert matched, f"{method} {path} is not in the OpenAPI document"
    op = spec()["paths"][matched].get(method.lower())
    if op is None and status == 405:
        # An undocumented method on a documented path: the standard error body.
        op = {
            "responses": {
                "405": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    }
                }
            }
        }
    assert op, f"{method} {matched} is not in the OpenAPI document"
    responses = op["responses"]
    assert str(status) in responses, (
        f"{method} {matched} answered {status}, which the OpenAPI document does not list"
    )
    content = responses[str(status)].get("content")
    if not content:
        return
    assert content_type.startswith("application/json"), f"{method} {path}: not JSON"
    _validate(content["application/json"]["schema"], payload, method, path, status)


def _validate(schema: dict, payload, method: str, path: str, status: int) -> None:
    schema = {**schema, "components": spec()["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(payload), key=str)
    assert not errors, (
        f"{method} {path} {status} does not match the OpenAPI document: "
        + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    )
