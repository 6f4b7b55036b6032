"""The data-rights API's request shapes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from portal.core.validation import Body, Page


class Reauthentication(Body):
    """A fresh code sent to the account's number for this purpose, or the password."""

    code: Annotated[str, Field(max_length=12)] | None = None
    password: Annotated[str, Field(max_length=200)] | None = None


class AccessLogQuery(Page):
    pass
