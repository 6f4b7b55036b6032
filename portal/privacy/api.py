"""Data rights over the API: export, who has seen my data, delete the account."""

from __future__ import annotations

from functools import partial

from flask import current_app, jsonify, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from portal.audit.models import AccessEntry
from portal.core.api import bp, require_user
from portal.core.database import after_commit, keep_on_error
from portal.core.errors import DomainError
from portal.core.guards import login_required
from portal.core.i18n import current_locale
from portal.core.limits import configured
from portal.core.pagination import keyset
from portal.core.security import log_event
from portal.core.validation import accepts, parse_body
from portal.extensions import limiter
from portal.media.storage import storage_for
from portal.privacy import schemas as S
from portal.privacy import services as privacy
from portal.privacy.views import export_response


@bp.get("/me/export")
@login_required
def export_me():
    user = require_user()
    log_event("data_exported", channel="api", user=user.id)
    return export_response(user)


@bp.get("/me/access-log")
@login_required
@accepts(query=S.AccessLogQuery)
def my_access_log(params: S.AccessLogQuery):
    user = require_user()
    stmt = select(AccessEntry).where(AccessEntry.resident_id == user.id)
    rows, next_url = keyset(stmt, AccessEntry.id, descending=True)
    names = privacy.organisations(rows, current_locale())
    return jsonify(
        {
            "items": [privacy.access_item(e, names) for e in rows],
            "next": next_url,
            "kept_days": current_app.config["ACCESS_LOG_DAYS"],
        }
    )


@bp.post("/me/reauth-code")
@login_required
@limiter.limit(configured("SMS_SEND_LIMIT"))
def reauth_code():
    """A code to the account's own number, to confirm a deletion."""
    user = require_user()
    sent = privacy.send_reauth_code(user, get_remote_address(), current_locale())
    return jsonify({"status": "sent", "resend_after": sent.resend_after}), 202


@bp.delete("/me")
@login_required
@limiter.limit(configured("SMS_VERIFY_LIMIT"))
def delete_me():
    """Delete the account now, with a fresh code or the password (a body is optional: without
    one, 401 ``reauthentication_required``)."""
    user = require_user()
    data = parse_body(S.Reauthentication) if request.get_data(cache=True) else S.Reauthentication()
    assert isinstance(data, S.Reauthentication)
    try:
        privacy.reauthenticate(user, code=data.code, password=data.password)
    except DomainError:
        keep_on_error("the wrong try counts against the code")
        raise
    uid = user.id
    files = privacy.erase_account(user)
    storage = storage_for(current_app)
    for name in files:
        after_commit(partial(storage.delete, name))
    log_event("account_deleted", channel="api", user=uid)
    return "", 204


# Read by the OpenAPI builder, as ``accepts`` would set them.
delete_me.__api_body__ = S.Reauthentication  # type: ignore[attr-defined]
delete_me.__api_query__ = None  # type: ignore[attr-defined]
