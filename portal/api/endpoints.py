"""Foundation endpoints: auth tokens, accounts, me, communities, residency, notifications."""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import or_

from portal.accounts import mfa, phones, wechat
from portal.accounts import services as accounts
from portal.accounts.forms import api_registration_errors
from portal.accounts.models import ApiToken
from portal.api import ApiError, bp, iso, require_user
from portal.api import schemas as S
from portal.core.database import keep_on_error
from portal.core.errors import DomainError
from portal.core.guards import login_required, public
from portal.core.i18n import current_locale
from portal.core.i18n import gettext as _
from portal.core.limits import configured, sign_in_failed, sign_in_limit, user_key
from portal.core.pagination import keyset
from portal.core.security import log_event
from portal.core.validation import accepts
from portal.extensions import db, limiter
from portal.notifications import services as notes
from portal.notifications.models import Notification
from portal.places.models import Community, District, Street
from portal.places.services import community_by_code
from portal.residency import permissions as residency_may
from portal.residency import services as residency
from portal.residency.models import ResidencyRequest, ResidencyStatus
from portal.roles import permissions

# --- auth ------------------------------------------------------------------------------------


@bp.post("/auth/sms-code")
@public
@limiter.limit(configured("SMS_SEND_LIMIT"))
@accepts(body=S.SmsCodeRequest)
def send_sms_code(data: S.SmsCodeRequest):
    """A code for signing in or registering; the same answer whether or not the number has an
    account."""
    sent = phones.send_code(data.phone, get_remote_address(), locale=current_locale())
    log_event("sms_code_sent", channel="api")
    return jsonify({"status": "sent", "resend_after": sent.resend_after}), 202


def _not_by_phone() -> bool:
    """The code's limit spares email sign-ins (they have the sign-in limit of their own)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested past what the parser takes: @accepts refuses it next
        return True
    return not (isinstance(body, dict) and "phone" in body)


@bp.post("/auth/token")
@public
@sign_in_limit()
@limiter.limit(configured("SMS_VERIFY_LIMIT"), exempt_when=_not_by_phone)
@accepts(body=S.Credentials)
def create_token(data: S.Credentials):
    if data.phone is not None:
        return _token_by_code(data)
    if "email" not in current_app.config["SIGN_IN_METHODS"]:
        raise ApiError(
            "method_disabled", "This site signs in by mobile number and SMS code.", status=400
        )
    email, password = data.email, data.password
    wait = accounts.sign_in_wait(email, get_remote_address())
    if wait is not None:
        log_event("login_locked")
        raise ApiError(
            "rate_limited",
            "Too many failed sign-ins to this account from this address.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    user = accounts.authenticate(email, password, get_remote_address())
    if user is None:
        sign_in_failed()
        keep_on_error("the owner's notice of failed sign-ins, when one is due")
        log_event("login_failure", channel="api")
        raise ApiError("invalid_credentials", "The email or password is not correct.", status=401)
    second_factor = _second_factor(user, data.otp)
    raw, token = accounts.issue_token(user, second_factor=second_factor)
    log_event("login_success", channel="api", user=user.id)
    return jsonify({"token": raw, "expires_at": iso(token.expires_at)}), 201


def _second_factor(user, otp: str | None) -> bool:
    """Staff (and anyone who set up two-step sign-in) send the authenticator's code as
    ``otp``: without it 401 ``otp_required``, wrong or used already 401 ``invalid_otp``.
    True when the token carries the second factor."""
    if not mfa.required_at_sign_in(user):
        if mfa.holds_roles(user):
            raise ApiError(
                "otp_required",
                "Staff accounts sign in with two-step sign-in: set it up on the website "
                "(Account, Two-step sign-in), then send its code as otp.",
                status=401,
            )
        return False
    if otp is None:
        raise ApiError(
            "otp_required", "Send the code of your authenticator app as otp.", status=401
        )
    wait = mfa.failure_wait(user)
    if wait is not None:
        log_event("second_step_locked", user=user.id)
        raise ApiError(
            "rate_limited",
            "Too many wrong codes for this account.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if not mfa.check_second_factor(user, otp):
        sign_in_failed()
        mfa.count_failure(user)
        keep_on_error("the owner's notice of failed second steps, when one is due")
        log_event("second_step_failure", channel="api", user=user.id)
        raise ApiError("invalid_otp", "The code is not correct or was used already.", status=401)
    return True


def _checked_code(raw_phone: str | None, code: str | None, method: str = "phone"):
    """The live SMS code of the number if ``code`` is it; a wrong try counts against the code
    (kept although the answer is 401) and against the address's sign-in budget."""
    phone = phones.require_phone(raw_phone)
    row = phones.check_code(phone, code or "")
    if row is None:
        sign_in_failed()
        keep_on_error("the wrong try counts against the code")
        log_event("login_failure", channel="api", method=method)
        raise phones.invalid_code()
    return row


def _token_by_code(data: S.Credentials):
    """Sign in, or register a number new to the site, with the SMS code sent to it."""
    row = _checked_code(data.phone, data.code)
    user, created = phones.sign_in_with_code(
        row, accept_privacy=bool(data.accept_privacy), locale=current_locale()
    )
    second_factor = _second_factor(user, data.otp)
    raw, token = accounts.issue_token(user, second_factor=second_factor)
    log_event("register" if created else "login_success", channel="api", user=user.id)
    return jsonify({"token": raw, "expires_at": iso(token.expires_at), "new_account": created}), 200


@bp.post("/auth/wechat")
@public
@sign_in_limit()
@accepts(body=S.WechatLogin)
def wechat_sign_in(data: S.WechatLogin):
    """Sign in from the mini-program; an openid new to the site gets 409 ``link_required``
    with a ``link_token`` for ``/auth/wechat/link``."""
    wechat.require_configured()
    try:
        openid = wechat.exchange(data.code)
    except wechat.WechatError as err:
        if err.code == "invalid_wechat_code":
            sign_in_failed()  # spends the address's sign-in budget, like a wrong password
        raise
    user = wechat.account_of(openid)
    if user is None:
        raw, seconds = wechat.issue_link_token(openid)
        log_event("wechat_link_required", channel="api")
        # The token is kept although the answer is a 409: it is what the answer hands out.
        keep_on_error("the link token this answer hands out")
        message = _(
            "Verify your mobile number once to link WeChat to your account: ask for a code and "
            "send it with this link token."
        )
        body = {"code": "link_required", "message": message}
        return jsonify({"error": body, "link_token": raw, "expires_in": seconds}), 409
    second_factor = _second_factor(user, data.otp)
    raw, token = accounts.issue_token(user, second_factor=second_factor)
    log_event("login_success", channel="api", method="wechat", user=user.id)
    return jsonify({"token": raw, "expires_at": iso(token.expires_at)}), 200


@bp.post("/auth/wechat/link")
@public
@sign_in_limit()
@limiter.limit(configured("SMS_VERIFY_LIMIT"))
@accepts(body=S.WechatLink)
def wechat_link(data: S.WechatLink):
    """Link a first WeChat sign-in to the account of a number verified by its SMS code (made
    now, with the privacy notice accepted, when the number has none), and sign in."""
    wechat.require_configured()
    try:
        link_token = wechat.live_link_token(data.link_token)
    except wechat.WechatError:
        sign_in_failed()
        raise
    row = _checked_code(data.phone, data.code, method="wechat")
    user, created = wechat.link(
        link_token, row, accept_privacy=bool(data.accept_privacy), locale=current_locale()
    )
    second_factor = _second_factor(user, data.otp)
    raw, token = accounts.issue_token(user, second_factor=second_factor)
    log_event("wechat_linked", channel="api", user=user.id)
    body = {"token": raw, "expires_at": iso(token.expires_at), "new_account": created}
    return jsonify(body), 200


@bp.delete("/auth/token")
@login_required
def delete_token():
    token_id = g.get("api_token_id")
    token = db.session.get(ApiToken, token_id) if token_id is not None else None
    if token is None:
        raise ApiError("no_token", "Send the bearer token to revoke in Authorization.", status=400)
    accounts.revoke_token(token)
    return "", 204


@bp.post("/accounts")
@public
@limiter.shared_limit(configured("REGISTER_LIMIT"), scope="register")  # with the page
@accepts(body=S.NewAccount)
def create_account(data: S.NewAccount):
    if "email" not in current_app.config["SIGN_IN_METHODS"]:
        raise ApiError(
            "method_disabled",
            "This site registers by mobile number: POST /api/v1/auth/sms-code, then "
            "/api/v1/auth/token.",
            status=400,
        )
    sent = data.model_dump(exclude_none=True)
    fields = api_registration_errors(sent)
    if fields:
        raise ApiError("validation_failed", "Some fields are not valid.", status=400, fields=fields)
    accounts.register(sent["email"], sent["display_name"], sent.get("locale") or "zh_Hans")
    log_event("register_requested")
    # The same answer whether or not the address has an account already.
    return jsonify(
        {
            "status": "check_mail",
            "message": _(
                "Check your mail: we sent a link to this address. Open it in a browser to "
                "choose your password and finish registering."
            ),
        }
    ), 202


# --- me --------------------------------------------------------------------------------------


def _me(user) -> dict:
    status, community = residency.residency_status(user)
    return {
        "id": user.id,
        "display_name": user.display_name,
        "locale": user.locale,
        "email": user.email,
        "email_confirmed": user.email_confirmed,
        "phone": user.phone,
        "mfa_enabled": user.mfa_enabled,
        "residency": {"status": status, "community_code": community.code if community else None},
        "roles": [
            {"role": gr.role.value, "scope_code": gr.scope_code} for gr in permissions.grants(user)
        ],
    }


@bp.get("/me")
@login_required
def me():
    return jsonify(_me(current_user))


@bp.patch("/me")
@login_required
@accepts(body=S.MeUpdate)
def update_me(data: S.MeUpdate):
    """A new email address needs a fresh code or the password (401
    ``reauthentication_required`` without, ``invalid_code`` or ``invalid_password`` when
    wrong); the name and the language do not."""
    user = require_user()
    if data.email is not None and data.email.lower() != (user.email or "").lower():
        from portal.privacy import services as privacy

        try:
            privacy.reauthenticate(user, code=data.code, password=data.password)
        except DomainError:
            keep_on_error("the wrong try counts against the code")
            raise
    accounts.update_profile(
        user, display_name=data.display_name, locale=data.locale, email=data.email
    )
    return jsonify(_me(user))


# --- communities -----------------------------------------------------------------------------


def _community(c: Community) -> dict:
    return {
        "code": c.code,
        "name_zh": c.name_zh,
        "name_en": c.name_en,
        "street_code": c.street.code,
        "district_code": c.street.district.code,
        "confirmed_residents": c.confirmed_residents,
    }


@bp.get("/communities")
@public
@accepts(query=S.CommunitiesQuery)
def communities(params: S.CommunitiesQuery):
    stmt = db.select(Community).join(Community.street).join(Street.district)
    if params.district:
        stmt = stmt.where(District.code == params.district)
    q = (params.q or "").strip()
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Community.name_zh.like(like, escape="\\"),
                Community.name_en.ilike(like, escape="\\"),
                Community.code.startswith(q, autoescape=True),
            )
        )
    rows, next_url = keyset(stmt, Community.id)
    return jsonify({"items": [_community(c) for c in rows], "next": next_url})


def _get_community(code: str) -> Community:
    c = community_by_code(code)
    if c is None:
        raise ApiError("not_found", "No community has this code.", status=404)
    return c


@bp.get("/communities/<code>")
@public
def community(code: str):
    return jsonify(_community(_get_community(code)))


# --- residency -------------------------------------------------------------------------------


_residency_limit = configured("RESIDENCY_REQUEST_LIMIT")
_residency_ip_limit = configured("RESIDENCY_REQUEST_IP_LIMIT")


@bp.post("/residency")
@login_required
@limiter.shared_limit(_residency_limit, "residency-request", key_func=user_key)
@limiter.shared_limit(_residency_ip_limit, "residency-request-ip")
@accepts(body=S.ResidencyApplication)
def create_residency(data: S.ResidencyApplication):
    user = require_user()
    if data.invitation_code:
        req = residency.use_invitation(user, data.invitation_code)
    else:
        code, note = data.community_code, data.address_note
        community = community_by_code(code)
        if community is None:
            raise ApiError(
                "validation_failed",
                "Unknown community.",
                status=400,
                fields={"community_code": _("No community has this code.")},
            )
        req = residency.request_residency(user, community, note)
    return jsonify(_residency_item(req, personal=False)), 201


def _residency_item(req: ResidencyRequest, *, personal: bool = True) -> dict:
    item = {
        "id": req.id,
        "community_code": req.community.code,
        "status": req.status.value,
        "created_at": iso(req.created_at),
        "reason": req.reason,
    }
    if personal:
        item.update(display_name=req.user.display_name, address_note=req.address_note)
    return item


@bp.get("/communities/<code>/residency-requests")
@login_required
@accepts(query=S.ResidencyRequestsQuery)
def residency_requests(code: str, params: S.ResidencyRequestsQuery):
    community = _get_community(code)
    if not residency_may.can_see_requests(current_user, community):
        raise ApiError(
            "forbidden",
            "Only the community's committee or district supervisor sees these.",
            status=403,
        )
    status = params.status
    stmt = db.select(ResidencyRequest).where(
        ResidencyRequest.community_id == community.id,
        ResidencyRequest.status == ResidencyStatus(status),
    )
    if not permissions.is_committee(current_user, community):
        stmt = stmt.where(residency_may.left_to_supervisor())  # what the supervisor decides
    # Work queues run oldest first.
    rows, next_url = keyset(stmt, ResidencyRequest.id)
    from portal.audit.services import record

    if rows:
        record(
            current_user,
            "residency.view_requests",
            community,
            count=len(rows),
            user_ids=[r.user_id for r in rows],
        )
        residency.log_queue_view(current_user, community, rows)
    return jsonify({"items": [_residency_item(r) for r in rows], "next": next_url})


@bp.post("/residency-requests/<id:request_id>/decision")
@login_required
@accepts(body=S.ResidencyDecision)
def decide_residency(request_id: int, data: S.ResidencyDecision):
    user = require_user()
    req = db.session.get(ResidencyRequest, request_id)
    # Staff of another community learn nothing of which requests exist.
    if req is None or not residency_may.can_see_requests(user, req.community):
        raise ApiError("not_found", "No such residency request.", status=404)
    residency.decide(user, req, data.decision, data.reason)  # its decider first
    return jsonify(_residency_item(req))


# --- notifications ---------------------------------------------------------------------------


def _notification(n: Notification) -> dict:
    return {
        "id": n.id,
        "type": n.type,
        "subject_type": n.subject_type,
        "subject_id": n.subject_id,
        "url": n.url,
        "read": n.read_at is not None,
        "created_at": iso(n.created_at),
        "title": notes.title(n),
    }


@bp.get("/notifications")
@login_required
@accepts(query=S.NotificationsQuery)
def notifications(params: S.NotificationsQuery):
    unread = {"true": True, "false": False}.get(params.unread or "")
    rows, next_url = keyset(
        notes.received(unread),
        Notification.id,
        descending=True,
        params={"user_id": current_user.id},
    )
    return jsonify({"items": [_notification(n) for n in rows], "next": next_url})


@bp.post("/notifications/read")
@login_required
@accepts(body=S.MarkRead)
def read_notifications(data: S.MarkRead):
    user = require_user()
    changed = notes.mark_read(user) if data.all else notes.mark_read(user, data.ids)
    return jsonify({"marked": changed, "unread": notes.unread_count(user)})
