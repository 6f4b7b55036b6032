"""What each API operation accepts: one pydantic model per request body and per query string.

These models are checked before the view runs (``portal.core.validation.accepts``) and are the
request side of the OpenAPI document (``portal.api.openapi``): change them, then run
``python tools/openapi.py`` to write the document. The models of the features' operations live
with them (``proposals.schemas``, ``cases.schemas``, ``deliberation.schemas``).
"""

from typing import Annotated, Literal

from pydantic import EmailStr, Field, model_validator

from portal.core.validation import ABSENT, Body, Id, Page, text
from portal.residency.models import ResidencyStatus

# Each Literal[...] of values read from the enum or constant it mirrors (so the two cannot drift
# apart) carries a ``type: ignore[valid-type]``: pydantic takes it at run time, a type checker
# wants the values written out.

# --- auth and accounts ------------------------------------------------------------------------


class Credentials(Body):
    """Either an email address and its password, or a mobile number and the SMS code sent to
    it (``accept_privacy``: true when the number has no account yet, to create it); and for
    staff, ``otp``."""

    model_config = Body.model_config | {
        "json_schema_extra": {
            "anyOf": [{"required": ["email", "password"]}, {"required": ["phone", "code"]}]
        }
    }

    email: Annotated[str, text(254), Field(min_length=1)] = ABSENT
    password: Annotated[str, text(200), Field(min_length=1)] = ABSENT
    phone: Annotated[str, text(30), Field(min_length=1)] = ABSENT
    code: Annotated[str, text(12), Field(min_length=1)] = ABSENT
    accept_privacy: bool = ABSENT
    # Staff accounts (and any account with two-step sign-in): the 6-digit code of the
    # authenticator app, or a recovery code.
    otp: Annotated[str, text(20), Field(min_length=1)] = ABSENT

    @model_validator(mode="after")
    def _one_way(self):
        by_email = self.email is not None or self.password is not None
        by_phone = self.phone is not None or self.code is not None
        if by_email and by_phone:
            raise ValueError("Send email and password, or phone and code, not both.")
        if by_email and (self.email is None or self.password is None):
            raise ValueError("Send both email and password.")
        if by_phone and (self.phone is None or self.code is None):
            raise ValueError("Send both phone and code.")
        if not by_email and not by_phone:
            raise ValueError("Send email and password, or phone and code.")
        if self.accept_privacy is not None and not by_phone:
            raise ValueError("accept_privacy goes with phone and code.")
        return self


class SmsCodeRequest(Body):
    phone: Annotated[str, text(30), Field(min_length=1)] = Field(
        description="A mainland mobile number: 11 digits starting 1[3-9], +86 optional"
    )


class WechatLogin(Body):
    code: Annotated[str, text(128), Field(min_length=1)] = Field(
        description="The code of the mini-program's wx.login()"
    )
    # Staff accounts: the authenticator's code (as for /auth/token).
    otp: Annotated[str, text(20), Field(min_length=1)] = ABSENT


class WechatLink(Body):
    """The link token of a first WeChat sign-in, and a number with the SMS code sent to it
    (``accept_privacy``: true when the number has no account yet, to create it)."""

    link_token: Annotated[str, text(100), Field(min_length=1)]
    phone: Annotated[str, text(30), Field(min_length=1)]
    code: Annotated[str, text(12), Field(min_length=1)]
    accept_privacy: bool = ABSENT
    # Staff accounts: the authenticator's code (as for /auth/token).
    otp: Annotated[str, text(20), Field(min_length=1)] = ABSENT


class MeUpdate(Body):
    """Any of the three; what is left out stays as it is."""

    model_config = Body.model_config | {
        "json_schema_extra": {
            "anyOf": [
                {"required": ["display_name"]},
                {"required": ["locale"]},
                {"required": ["email"]},
            ]
        }
    }

    display_name: Annotated[str, text(40, required=True), Field(min_length=2)] = ABSENT
    locale: Literal["zh_Hans", "en"] = ABSENT
    email: Annotated[EmailStr, Field(max_length=254)] = ABSENT
    # A new email address needs re-authentication, as on the website: a fresh code sent for it
    # (POST /api/v1/me/reauth-code) or the password.
    code: Annotated[str, Field(max_length=12)] = ABSENT
    password: Annotated[str, Field(max_length=200)] = ABSENT

    @model_validator(mode="after")
    def _something(self):
        if self.display_name is None and self.locale is None and self.email is None:
            raise ValueError("Send display_name, locale or email.")
        return self


class NewAccount(Body):
    email: Annotated[EmailStr, Field(max_length=254)]
    password: None = Field(
        default=None,
        description="Never sent: the password is chosen on the page of the mailed link, and a "
        "body with one is refused (400, fields.password) so no client believes it set one.",
    )
    display_name: Annotated[str, text(40, required=True), Field(min_length=2)]
    locale: Literal["zh_Hans", "en"] | None = None


# --- residency --------------------------------------------------------------------------------


class ResidencyApplication(Body):
    """Either a community to join (with an optional note), or an invitation code."""

    model_config = Body.model_config | {
        "json_schema_extra": {
            "anyOf": [{"required": ["community_code"]}, {"required": ["invitation_code"]}]
        }
    }

    community_code: Annotated[str, text(40), Field(min_length=1)] = ABSENT
    address_note: Annotated[str, text(200)] = ""
    invitation_code: Annotated[str, text(40), Field(min_length=1)] = ABSENT

    @model_validator(mode="after")
    def _one_way(self):
        if self.community_code is None and self.invitation_code is None:
            raise ValueError("Send community_code or invitation_code.")
        return self


class ResidencyDecision(Body):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, text(500)] | None = Field(
        default=None, description="Required to reject; shown to the person"
    )


class ResidencyRequestsQuery(Page):
    status: Literal[tuple(s.value for s in ResidencyStatus)] = "pending"  # type: ignore[valid-type]


# --- communities and notifications ------------------------------------------------------------


class CommunitiesQuery(Page):
    district: Annotated[str, text(40)] | None = None
    q: Annotated[str, text(100)] | None = None


class NotificationsQuery(Page):
    unread: Literal["true", "false"] | None = None


class MarkRead(Body):
    """Either ``ids`` (at most 100, a page) or ``all: true``."""

    model_config = Body.model_config | {
        "json_schema_extra": {"anyOf": [{"required": ["ids"]}, {"required": ["all"]}]}
    }

    ids: Annotated[list[Id], Field(min_length=1, max_length=100)] = ABSENT
    all: Literal[True] = ABSENT

    @model_validator(mode="after")
    def _one_way(self):
        if self.ids is None and self.all is None:
            raise ValueError("Send ids (a list of notification ids) or all: true.")
        return self
