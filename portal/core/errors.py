"""Error pages in both languages, and JSON errors under /api/.

``DomainError`` is what a service raises when a rule says no; every feature's error (``CaseError``,
``ProposalError``, ...) is a subclass with the same signature. One handler answers it: under
/api/ as the JSON error ``{"error": {"code", "message", "fields"?}}``, on pages as a flashed
message and a redirect back (``redirect_on_error``), or as the error page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.core.database import discard_changes, kept_on_error
from portal.core.i18n import gettext as _
from portal.core.security import log_event, safe_next

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from werkzeug.wrappers import Response
    from wtforms import Form

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. ``code`` is stable for clients, ``message`` is for people (translated),
    ``status`` is the HTTP status an interface answers with, ``field`` the input it is about."""

    headers: Mapping[str, str] = {}

    def __init__(
        self, code: str, message: str, *, status: int = 409, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field

    @property
    def fields(self) -> dict[str, str] | None:
        """The JSON error's ``fields``: the message at its field, if it has one."""
        return {self.field: self.message} if self.field else None


def field_error(form: Form, err: DomainError, default: str | None = None) -> None:
    """Show ``err`` at its field of ``form`` (or at ``default``), keeping what was typed; a
    message about no field of the form is flashed instead."""
    field = getattr(form, err.field or default or "", None)
    if field is None and default is not None:
        field = getattr(form, default, None)
    if field is None:
        flash(err.message, "error")
        return
    field.errors = [*field.errors, err.message]


def act_on_form(
    form: Form,
    action: Callable[[], object],
    *,
    done: str,
    then: str,
    default: str | None = None,
    fields: Collection[str] | None = None,
) -> Response | DomainError:
    """Do what ``form`` asks (``action``, the service call) and answer as every form does.

    Done: ``done`` is flashed and the browser sent on to ``then``; what it changed is kept by
    the request's one commit (``core.database``). Refused by a rule: nothing of it is kept, the
    message stands at its field of ``form`` with what was typed (``default``: the field for an
    error about none; with ``fields``, only those may show it, any other refusal is flashed),
    and the error is returned for the view to show its page again. A 403 or 404 goes on to
    the error page."""
    from portal.extensions import db

    try:
        action()
        db.session.flush()  # a constraint that fails does so here, before "done" is said
    except DomainError as err:
        if err.status in (403, 404):
            raise
        discard_changes()
        if fields is not None and err.field not in fields:
            flash(err.message, "error")
        else:
            field_error(form, err, default)
        return err
    flash(done, "success")
    return redirect(then)


_REDIRECT = "commons.domain_error_redirect"


def redirect_on_error(url: str, *, flashed: Collection[str] = ()) -> None:
    """Where the page handler sends the browser back to, with the message flashed, when a
    ``DomainError`` ends this request. A 403 or 404 shows the error page instead, unless its
    code is one of ``flashed`` (a refusal that is better told where the person was)."""
    request.environ[_REDIRECT] = (url, frozenset(flashed))  # this request's, not the g's


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/open311/")


def _messages() -> dict[int, tuple[str, str, str]]:
    return {
        400: ("bad_request", _("Bad request"), _("The request could not be understood.")),
        401: ("unauthenticated", _("Sign-in required"), _("Please sign in to continue.")),
        403: ("forbidden", _("Not allowed"), _("You do not have permission to do this.")),
        404: ("not_found", _("Page not found"), _("There is nothing at this address.")),
        405: ("method_not_allowed", _("Method not allowed"), _("This action is not available.")),
        409: ("conflict", _("Conflict"), _("The request conflicts with the current state.")),
        413: (
            "payload_too_large",
            _("Too large"),
            _("What you sent is larger than this site accepts."),
        ),
        429: (
            "rate_limited",
            _("Too many requests"),
            _("You have made too many requests. Please wait a little and try again."),
        ),
        500: (
            "server_error",
            _("Something went wrong"),
            _("An unexpected error occurred. It has been logged; please try again later."),
        ),
    }


def error_response(
    status: int,
    code: str | None = None,
    message: str | None = None,
    fields: dict | None = None,
    headers: list[tuple[str, str]] | None = None,
):
    default_code, title, text = _messages().get(status, _messages()[400 if status < 500 else 500])
    if wants_json():
        body: dict = {"code": code or default_code, "message": message or text}
        if fields:
            body["fields"] = fields
        resp = jsonify({"error": body})
        resp.status_code = status
        resp.headers.extend(headers or [])
        return resp
    html = render_template("errors/error.html", status=status, title=title, message=message or text)
    return html, status, headers or []


def _carried_headers(err: HTTPException) -> list[tuple[str, str]]:
    """The headers an HTTP error brings for the client (``Allow`` on 405, ``Retry-After`` on
    429, ``WWW-Authenticate`` on 401); the body, and so its type, is built here."""
    return [
        (name, value)
        for name, value in err.get_headers()
        if name.lower() not in ("content-type", "content-length")
    ]


def _domain_error(err: DomainError) -> ResponseReturnValue:
    """The one answer to a rule that said no: nothing of the request is kept (but its record
    of the refusal, ``core.database.keep_on_error``)."""
    if not kept_on_error():
        discard_changes()
    if wants_json():
        response = error_response(err.status, err.code, err.message, err.fields)
        response.headers.update(err.headers)
        return response
    back: tuple[str, frozenset[str]] | None = request.environ.get(_REDIRECT)
    if back is not None and (err.status not in (403, 404) or err.code in back[1]):
        flash(err.message, "error")
        return redirect(back[0])
    if err.status == 403:
        log_event("forbidden")
    return error_response(err.status, err.code, err.message)


def _posted_a_token() -> bool:
    """Did the request carry a CSRF token at all (in a form field named ``…csrf_token``, as
    every form of this site does, or in the header)? One without is not from our pages."""
    if request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"):
        return True
    return any(key.endswith("csrf_token") for key in request.form)


def _page_sent_from() -> str | None:
    """The path of this site's page the form was sent from: the Referer when it is this host,
    else the form's own ``next`` or ``back`` field; None when neither says."""
    referrer = urlsplit(request.headers.get("Referer", ""))
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        found = safe_next(path, "")
        if found:
            return found
    for name in ("next", "back"):
        found = safe_next(request.form.get(name), "")
        if found:
            return found
    return None


def _is_public_page(path: str) -> bool:
    """Does ``path`` lead to a page anyone may open (a view marked ``public``)?"""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method="GET")
    except HTTPException:
        return False
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "__guard__", None) == "public"


def csrf_failure() -> ResponseReturnValue:
    """A form whose CSRF token no longer holds: its page stayed open past the session's end,
    or the session was signed out meanwhile. Nothing of it is done; the person is led back to
    the page (signed in, or a page anyone may use) or to sign-in with ``next`` back to it, and
    told why. The API, and a request that carried no token at all (not sent by one of our
    forms), get the 400 error."""
    message = _(
        "The form expired or was sent from another site. Please reload the page and try again."
    )
    if wants_json() or not _posted_a_token():
        return error_response(400, "csrf_failed", message)
    back = _page_sent_from()
    if current_user.is_authenticated or (back is not None and _is_public_page(back)):
        flash(
            _(
                "This page was open too long and what you sent was not saved. "
                "Please check it and send it again."
            ),
            "error",
        )
        return redirect(back or url_for("main.home"), 303)
    flash(
        _(
            "Your session ended, so what you sent was not saved. "
            "Sign in again to go back to the page."
        ),
        "error",
    )
    login = url_for("accounts.login", next=back) if back else url_for("accounts.login")
    return redirect(login, 303)


def install_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        log_event("csrf_failure", reason=err.description)
        return csrf_failure()

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        if status == 403:
            log_event("forbidden")
        if status in _messages():
            return error_response(status, headers=_carried_headers(err))
        return error_response(400 if status < 500 else 500)

    if app.testing:
        return  # tests see the real traceback instead of the 500 page

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from portal.extensions import db

        db.session.rollback()
        return error_response(500)
