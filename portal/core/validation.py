"""Request bodies and query strings of the API, checked by pydantic models before the view runs.

``@accepts(body=Model, query=Model)`` parses the JSON body (strictly: JSON types, no coercion)
and the query string (as text, numbers converted) and passes them to the view as ``data`` and
``params``; anything off the model is a 400 in the API's error shape, ``fields`` naming each
field that is wrong. The models are also the request side of the OpenAPI document
(``portal.api.openapi``), so what is documented is what is accepted.
"""

import re
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Annotated, Any

from flask import request
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from portal.core.api import ApiError
from portal.core.input import MAX_ID, clean_text


def _clean(value: str) -> str:
    if not clean_text(value):
        raise ValueError("Text may not contain NUL characters or lone surrogates.")
    return value


# Text that PostgreSQL can store and compare (no NUL, no lone surrogate).
Text = Annotated[str, AfterValidator(_clean)]


def _pattern(required: bool) -> str:
    # No NUL (stated in the document too); ``required``: something besides white space.
    return r"^[^\x00]*[^\s\x00][^\x00]*$" if required else r"^[^\x00]*$"


class _TextRules(StringConstraints):
    """The length and pattern of a text member, then the check that PostgreSQL can store it."""

    def __iter__(self) -> Iterator[Any]:
        yield from super().__iter__()
        yield AfterValidator(_clean)


def text(
    max_length: int | None = None, *, required: bool = False, pattern: str | None = None
) -> StringConstraints:
    """The rules of a text member, written ``Annotated[str, text(80)]``: at most ``max_length``
    characters; ``required`` means not blank (as WTForms' DataRequired: something other than
    white space)."""
    return _TextRules(max_length=max_length, pattern=pattern or _pattern(required))


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


# The default of a member that may be left out but never be null (None when left out).
ABSENT: Any = Field(default=None, json_schema_extra=_no_default)


def _integral(value: Any) -> Any:
    # JSON Schema counts 1.0 as an integer; strict pydantic would not.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Makes an int member a whole number as JSON Schema means it (1.0 is one); after the bounds:
# ``Annotated[int, Field(ge=1, le=5), WHOLE]``.
WHOLE = BeforeValidator(_integral)
# A database id: PostgreSQL integer, positive.
Id = Annotated[int, Field(ge=1, le=MAX_ID), WHOLE]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    # A time is written as ISO 8601 text ("2026-12-07T10:00:00+08:00"), as the OpenAPI
    # document's date-time says.
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and not _ISO_DATE.match(value)
    ):
        raise ValueError("Use an ISO 8601 date and time with its time zone.")
    return value


# A moment with its time zone: in a JSON body (strict), ISO 8601 text only.
Instant = AwareDatetime
# ... and in a query string, where every value is text and lax pydantic would read numeric
# text as seconds since 1970 (a before-validator would make a strict body refuse all text).
QueryInstant = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


class Body(BaseModel):
    """A JSON request body: strict JSON types; unknown members are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """A query string: every value arrives as text and is converted."""

    model_config = ConfigDict(extra="ignore")


class Page(Query):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,512}$")] | None = Field(
        default=None,
        description="Opaque: the `next` link of the previous page carries it.",
    )


def _fields(err: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for e in err.errors(include_url=False, include_input=False):
        name = str(e["loc"][0]) if e["loc"] else "body"
        message = e["msg"].removeprefix("Value error, ")
        fields.setdefault(name, message)
    return fields


def _not_an_object(err: ValidationError) -> bool:
    return any(
        e["type"] in ("json_invalid", "json_type", "model_type", "model_attributes_type")
        for e in err.errors(include_url=False, include_input=False)
    )


def parse_body(model: type[Body]) -> Body:
    if not request.is_json:
        raise ApiError("invalid_json", "The request body must be a JSON object.", status=400)
    try:
        return model.model_validate_json(request.get_data(cache=True) or b"null")
    except ValidationError as err:
        if _not_an_object(err):
            raise ApiError(
                "invalid_json", "The request body must be a JSON object.", status=400
            ) from None
        raise ApiError(
            "validation_failed", "Some fields are not valid.", status=400, fields=_fields(err)
        ) from None


def parse_query(model: type[Query]) -> Query:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as err:
        fields = _fields(err)
        if set(fields) == {"cursor"}:
            raise ApiError(
                "invalid_cursor",
                "The cursor is not valid.",
                status=400,
                fields={"cursor": "Use the next link of a previous page."},
            ) from None
        raise ApiError(
            "invalid_parameter", "Some parameters are not valid.", status=400, fields=fields
        ) from None


def accepts(*, body: type[Body] | None = None, query: type[Query] | None = None) -> Callable:
    """The view gets ``data`` (the body model) and/or ``params`` (the query model)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if query is not None:
                kwargs["params"] = parse_query(query)
            if body is not None:
                kwargs["data"] = parse_body(body)
            return view(*args, **kwargs)

        # Read by the OpenAPI builder; a function takes no attribute the type checker knows of.
        wrapper.__api_body__ = body  # type: ignore[attr-defined]
        wrapper.__api_query__ = query  # type: ignore[attr-defined]
        return wrapper

    return decorate
