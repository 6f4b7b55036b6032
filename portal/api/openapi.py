"""The OpenAPI document: its request side generated from the API's own checks.

The committed ``openapi.json`` holds the hand-written side (summaries, security, responses).
``build`` replaces, for every API route, the path parameters (from the route's converters), the
query parameters (from the view's query model) and the request body (from its body model), so
the document says exactly what the server accepts. Every operation lists 400 (a malformed
request), every one with path parameters 404 (nothing there), and every public read 304
(core.http_cache answers If-None-Match). ``tools/openapi.py`` writes
the result back to the file; ``tools/openapi.py --check`` and the tests fail when it is stale.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import Rule

from portal.core.http_cache import PUBLIC
from portal.core.input import MAX_ID

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
REF = "#/components/schemas/{model}"
_KEY_ORDER = ("summary", "description", "operationId", "security", "parameters", "requestBody")
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_STANDARD = {
    "400": "Validation failed or malformed request",
    "404": "Unknown object, or not visible to the caller",
}
_NOT_MODIFIED = "Not modified: the ETag named in If-None-Match is still current"


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _rule_shape(rule: Rule) -> str:
    return _shape(re.sub(r"<(?:[^:>]+:)?[^>]+>", "{}", rule.rule))


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: _strip_titles(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def model_schema(model: type[BaseModel], schemas: dict) -> dict:
    """The model's JSON schema; nested models go to ``schemas`` (components)."""
    schema = _strip_titles(model.model_json_schema(ref_template=REF))
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    return schema


_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _path_parameter(name: str, converter: str) -> dict:
    if converter == "id":
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    else:
        schema = {"type": "string", "minLength": 1}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(model: type, schemas: dict) -> list[dict]:
    schema = model_schema(model, schemas)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        param: dict = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        # A query value that is absent and one that is null are the same thing.
        any_of = prop.get("anyOf")
        if any_of and {"type": "null"} in any_of:
            rest = [s for s in any_of if s != {"type": "null"}]
            prop.pop("anyOf")
            prop = {**(rest[0] if len(rest) == 1 else {"anyOf": rest}), **prop}
            prop.pop("default", None) if prop.get("default") is None else None
        param["schema"] = prop
        params.append(param)
    return params


def _ordered(op: dict) -> dict:
    out = {k: op[k] for k in _KEY_ORDER if k in op}
    out.update({k: v for k, v in op.items() if k not in out})
    return out


def _referenced(doc: dict) -> set[str]:
    text = json.dumps({k: v for k, v in doc.items() if k != "components"})
    found: set[str] = set()
    todo = set(re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", text))
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        sub = json.dumps(doc["components"]["schemas"].get(name, {}))
        todo |= set(re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", sub)) - found
    return found


def build(app: Flask, base: dict | None = None) -> dict:
    doc = copy.deepcopy(base if base is not None else load())
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    by_shape = {_shape(p): p for p in doc["paths"]}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = by_shape.get(_rule_shape(rule))
        if path is None:
            continue  # an undocumented route: the document test reports it
        names = re.findall(r"\{([^}]+)\}", path)
        converters = [c or "default" for c, _v in _VARIABLE.findall(rule.rule)]
        view = app.view_functions[rule.endpoint]
        body, query = getattr(view, "__api_body__", None), getattr(view, "__api_query__", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = doc["paths"][path].get(method.lower())
            if op is None:
                continue
            params = [_path_parameter(n, c) for n, c in zip(names, converters, strict=True)]
            if query is not None:
                params += _query_parameters(query, schemas)
            op.pop("parameters", None)
            op.pop("requestBody", None)
            if params:
                op["parameters"] = params
            if body is not None:
                schemas[body.__name__] = model_schema(body, schemas)
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": REF.format(model=body.__name__)}}
                    },
                }
            needs = {"400"}  # any request may be malformed (NUL in its query string, say)
            if names:
                needs.add("404")
            for status in sorted(needs - set(op["responses"])):
                op["responses"][status] = {"description": _STANDARD[status], "content": _ERROR}
            if method == "GET" and rule.endpoint in PUBLIC:  # core.http_cache: ETag and 304
                op["responses"].setdefault("304", {"description": _NOT_MODIFIED})
            op["responses"] = dict(sorted(op["responses"].items()))
            doc["paths"][path][method.lower()] = _ordered(op)
    used = _referenced(doc)
    doc["components"]["schemas"] = {k: v for k, v in schemas.items() if k in used}
    return doc


def load() -> dict:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def dumps(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
