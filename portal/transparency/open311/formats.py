"""The two formats of GeoReport v2: JSON (Flask's encoder) and XML (ElementTree), from the
same Python values, so they cannot drift apart.

XML shape: a root element, one child per item, one element per field; a list inside an item
repeats the singular tag (``<formats><format>…</format></formats>``); ``None`` is an empty
element; booleans are ``true``/``false``. UTF-8 with the XML declaration, as the spec asks."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, jsonify

FORMATS = ("json", "xml")

# The element of each item of a list named by the key.
SINGULAR = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        tag = SINGULAR.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    elif value is not None:
        element.text = _text(value)


def to_xml(root: str, item: str | None, data: Any) -> bytes:
    """``data`` under ``root``: a list's items each as an ``item`` element, a dict's fields as
    the root's own children."""
    element = ET.Element(root)
    if item is not None:
        for row in data:
            _fill(ET.SubElement(element, item), row)
    else:
        _fill(element, data)
    # The declaration as the spec writes it (ElementTree's own uses single quotes).
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8")


def respond(fmt: str, root: str, item: str | None, data: Any, status: int = 200) -> Response:
    if fmt == "json":
        response = jsonify(data)
    else:
        response = Response(to_xml(root, item, data), mimetype="text/xml")
    response.status_code = status
    return response


def errors(fmt: str, status: int, description: str) -> Response:
    """The spec's error list: one ``{code, description}``."""
    fmt = fmt if fmt in FORMATS else "xml"
    return respond(fmt, "errors", "error", [{"code": status, "description": description}], status)
