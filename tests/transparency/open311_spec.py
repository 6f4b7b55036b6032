"""The published GeoReport v2 field lists (wiki.open311.org/GeoReport_v2 and
/Service_Discovery), as JSON Schemas, and the same field lists for checking the XML."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET

_TEXT = {"type": ["string", "null"]}
_W3C = {
    "type": ["string", "null"],
    # W3C date-time with a time zone, as the spec requires.
    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$",
}

SERVICE_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
ATTRIBUTE_FIELDS = (
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
)

SERVICES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": list(SERVICE_FIELDS),
        "additionalProperties": False,
        "properties": {
            "service_code": {"type": "string", "minLength": 1},
            "service_name": {"type": "string"},
            "description": _TEXT,
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": _TEXT,
            "group": _TEXT,
        },
    },
}

DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": list(ATTRIBUTE_FIELDS),
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ]
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": _TEXT,
                    "order": {"type": "integer"},
                    "description": {"type": "string"},
                    "values": {"type": "array"},
                },
            },
        },
    },
}

REQUESTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": list(REQUEST_FIELDS),
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string", "minLength": 1},
            "status": {"enum": ["open", "closed"]},
            "status_notes": _TEXT,
            "service_name": _TEXT,
            "service_code": {"type": "string"},
            "description": _TEXT,
            "agency_responsible": _TEXT,
            "service_notice": _TEXT,
            "requested_datetime": _W3C,
            "updated_datetime": _W3C,
            "expected_datetime": _W3C,
            "address": _TEXT,
            "address_id": _TEXT,
            "zipcode": _TEXT,
            "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
            "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
            "media_url": _TEXT,
        },
    },
}

CREATED = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["token", "service_notice", "account_id"],
        "properties": {
            "token": {"type": "string", "minLength": 1},
            "service_notice": _TEXT,
            "account_id": _TEXT,
        },
    },
}

TOKENS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {"service_request_id": _TEXT, "token": {"type": "string"}},
    },
}

ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "additionalProperties": False,
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}

DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": _W3C,
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"type": "string"},
                    "url": {"type": "string"},
                    "changeset": _W3C,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def parse_xml(body: bytes) -> ET.Element:
    """The document, which must declare UTF-8 (the spec asks for the declaration)."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:60]
    return SafeET.fromstring(body)


def xml_items(root: ET.Element, root_tag: str, item_tag: str, fields) -> list[dict]:
    """Each item's fields as text ("" for an empty element); every listed field present."""
    assert root.tag == root_tag
    items = []
    for item in root:
        assert item.tag == item_tag
        children = {child.tag: (child.text or "") for child in item}
        missing = [f for f in fields if f not in children]
        assert not missing, f"{item_tag} lacks {missing}"
        items.append(children)
    return items
